using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;

namespace Containers.Distribution;

/// <summary>
/// Pulls a resolved image into a store. Missing layers download in parallel (bounded), each verified while it streams
/// into <c>ingest/</c> and published into <c>blobs/</c> once its digest matches; each layer is applied into its
/// snapshot as soon as its blob is there, while later layers still download. Writers of one blob, in this or another
/// process, wait for each other on the blob's lock. The image is tagged last, so a failed pull leaves no tag.
/// </summary>
internal sealed class ImagePuller(RegistryTransport transport, RegistryClientOptions options, ILogger logger)
{
    public async Task<Image> PullAsync(ImageStore store, Repository repository, ResolvedImage resolved, bool unpack, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var content = store.Content;
        using var ingest = await store.HoldIngestAsync(cancellationToken).ConfigureAwait(false);
        var manifest = resolved.Manifest;
        byte[] configBytes = await FetchConfigAsync(repository, content, manifest.Config, cancellationToken).ConfigureAwait(false);
        var config = ImageDocuments.ReadConfig(configBytes, manifest, $"config {manifest.Config.Digest}");
        var chainIds = ImageStore.ChainIds(config);

        var layers = manifest.Layers;
        var tracker = new ProgressTracker(progress, layers.Where(l => !content.Exists(l.Digest)).DistinctBy(l => l.Digest).Sum(l => l.Size));
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var downloads = new SemaphoreSlim(options.MaxConcurrentTransfers);
        using var applies = new SemaphoreSlim(1);
        var tasks = new List<Task>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var chainId = chainIds[i];
            var diffId = config.RootFS.DiffIds[i];
            tasks.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        await EnsureBlobAsync(repository, content, layer, downloads, tracker, failed.Token).ConfigureAwait(false);
                        if (unpack && !store.HasSnapshot(chainId))
                        {
                            await applies.WaitAsync(failed.Token).ConfigureAwait(false);
                            try
                            {
                                var compression = MediaTypes.LayerCompressionOf(layer.MediaType)!.Value;
                                await store.EnsureSnapshotAsync(chainId, diffId, layer.Digest, compression, new SynchronousProgress<long>(done => tracker.Report(TransferPhase.Applying, layer, done)), failed.Token).ConfigureAwait(false);
                            }
                            finally
                            {
                                applies.Release();
                            }
                        }
                    }
                    catch
                    {
                        await failed.CancelAsync().ConfigureAwait(false);
                        throw;
                    }
                },
                CancellationToken.None));
        }

        await TransferTasks.WhenAllAsync(tasks, cancellationToken).ConfigureAwait(false);

        await StoreDocumentAsync(content, manifest.Config.Digest, configBytes, cancellationToken).ConfigureAwait(false);
        await StoreDocumentAsync(content, resolved.Descriptor.Digest, resolved.ManifestBytes, cancellationToken).ConfigureAwait(false);
        var name = resolved.Reference.Tag is { } tag ? resolved.Reference.WithTag(tag) : null;
        logger.LogInformation("pulled {Reference} as {Digest}", resolved.Reference, resolved.Descriptor.Digest);
        return await store.RecordAsync(resolved.Descriptor, name, config.Platform, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task EnsureBlobAsync(Repository repository, ContentStore content, Descriptor layer, SemaphoreSlim downloads, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        if (content.Exists(layer.Digest))
        {
            tracker.Report(TransferPhase.Exists, layer, layer.Size);
            return;
        }

        await downloads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var blobLock = await FileLock.AcquireAsync(content.KeyLockPath(layer.Digest), exclusive: true, cancellationToken).ConfigureAwait(false);
            if (content.Exists(layer.Digest))
            {
                tracker.Report(TransferPhase.Exists, layer, layer.Size);
                return;
            }

            string path = Path.Combine(content.IngestDirectory, $"{layer.Digest.Algorithm}-{layer.Digest.Hex}.{Guid.NewGuid():N}.download");
            try
            {
                await BlobDownloader.DownloadAsync(transport, repository, layer, path, done => tracker.Report(TransferPhase.Downloading, layer, done), cancellationToken).ConfigureAwait(false);
                content.Publish([(path, layer.Digest)]);
                logger.LogDebug("downloaded and verified blob {Digest} ({Size} bytes) of {Registry}/{Repository}", layer.Digest, layer.Size, repository.Registry, repository.Name);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            downloads.Release();
        }
    }

    /// <summary>The config from the store if it is there, else from the registry, capped and verified.</summary>
    private async Task<byte[]> FetchConfigAsync(Repository repository, ContentStore content, Descriptor descriptor, CancellationToken cancellationToken)
    {
        string what = $"config {descriptor.Digest}";
        if (content.Exists(descriptor.Digest))
        {
            return await content.ReadDocumentAsync(descriptor.Digest, descriptor.Size, what, cancellationToken).ConfigureAwait(false);
        }

        ImageDocuments.CheckSize(descriptor.Size, what);
        using var response = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => new HttpRequestMessage(HttpMethod.Get, repository.BlobUri(descriptor.Digest)), what, retryable: true, cancellationToken).ConfigureAwait(false);
        await RegistryResponses.EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        byte[] bytes = await RegistryResponses.ReadBoundedAsync(response.Content, descriptor.Size, what, cancellationToken).ConfigureAwait(false);
        var actual = ContentStore.Hash(descriptor.Digest.Algorithm, bytes);
        if (bytes.Length != descriptor.Size || actual != descriptor.Digest)
        {
            throw new DigestMismatchException(what, descriptor.Digest, actual);
        }

        return bytes;
    }

    private static async Task StoreDocumentAsync(ContentStore content, Digest digest, byte[] bytes, CancellationToken cancellationToken)
    {
        if (content.Exists(digest))
        {
            return;
        }

        using var blobLock = await FileLock.AcquireAsync(content.KeyLockPath(digest), exclusive: true, cancellationToken).ConfigureAwait(false);
        if (content.Exists(digest))
        {
            return;
        }

        string staged = await content.StageAsync(new MemoryStream(bytes, writable: false), digest, bytes.Length, $"blob {digest}", null, cancellationToken).ConfigureAwait(false);
        try
        {
            content.Publish([(staged, digest)]);
        }
        finally
        {
            File.Delete(staged);
        }
    }
}
