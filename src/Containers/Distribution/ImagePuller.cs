using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;

namespace Containers.Distribution;

/// <summary>
/// Pulls a resolved image into a store. Missing layers download in parallel (bounded), each verified while it streams
/// into <c>ingest/</c> and published into <c>blobs/</c> once its digest matches. Each layer is applied into its
/// snapshot while it downloads (the applier reads the download as it grows, see <see cref="BlobFeed"/>), and that
/// snapshot is published only once the blob's digest is verified and the applier found the layer's diff id: a
/// corrupt or truncated blob leaves neither blob nor snapshot. Writers of one blob, in this or another process, wait
/// for each other on the blob's lock. The image is tagged last, so a failed pull leaves no tag.
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
        // As many applies at once as transfers, not one: an apply fed by a download waits for its bytes most of the
        // time, and a single slot held by a stalled download would keep the layers that did arrive from being applied.
        using var applies = new SemaphoreSlim(options.MaxConcurrentTransfers);
        var tasks = new List<Task>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var chainId = unpack ? chainIds[i] : (Digest?)null;
            var diffId = config.RootFS.DiffIds[i];
            tasks.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        await PullLayerAsync(store, repository, layer, chainId, diffId, downloads, applies, tracker, failed.Token).ConfigureAwait(false);
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

    /// <summary>
    /// Downloads a layer's blob unless the store has it and, when <paramref name="chainId"/> is given and its snapshot
    /// is missing, applies the layer into the snapshot while the blob streams in.
    /// </summary>
    private async Task PullLayerAsync(ImageStore store, Repository repository, Descriptor layer, Digest? chainId, Digest diffId, SemaphoreSlim downloads, SemaphoreSlim applies, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        var content = store.Content;
        if (chainId is not { } snapshot || store.HasSnapshot(snapshot))
        {
            await EnsureBlobAsync(repository, content, layer, downloads, tracker, feed: null, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var feed = new BlobFeed(layer.Size);
        var blob = EnsureBlobAsync(repository, content, layer, downloads, tracker, feed, cancellationToken);
        try
        {
            await feed.WhenReadableAsync(cancellationToken).ConfigureAwait(false);
            await applies.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await store.EnsureSnapshotAsync(
                    snapshot,
                    diffId,
                    ct => feed.OpenAsync(content, layer.Digest, ct),
                    MediaTypes.LayerCompressionOf(layer.MediaType)!.Value,
                    _ => blob,
                    new SynchronousProgress<long>(done => tracker.Report(TransferPhase.Applying, layer, done)),
                    cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                applies.Release();
            }
        }
        catch (Exception) when (!blob.IsCompletedSuccessfully)
        {
            // The apply read a download that failed (a corrupt, truncated or refused blob): that failure is the cause,
            // and the error to report. The feed is disposed only once the download no longer writes to it.
            await blob.ConfigureAwait(false);
            throw;
        }

        await blob.ConfigureAwait(false);
    }

    private async Task EnsureBlobAsync(Repository repository, ContentStore content, Descriptor layer, SemaphoreSlim downloads, ProgressTracker tracker, BlobFeed? feed, CancellationToken cancellationToken)
    {
        try
        {
            await DownloadBlobAsync(repository, content, layer, downloads, tracker, feed, cancellationToken).ConfigureAwait(false);
            feed?.Verified();
        }
        catch (Exception e)
        {
            feed?.Failed(e);
            throw;
        }
    }

    /// <summary>Downloads and publishes a blob unless the store has it (or gets it from another writer meanwhile).</summary>
    private async Task DownloadBlobAsync(Repository repository, ContentStore content, Descriptor layer, SemaphoreSlim downloads, ProgressTracker tracker, BlobFeed? feed, CancellationToken cancellationToken)
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
                await BlobDownloader.DownloadAsync(transport, repository, layer, path, done => tracker.Report(TransferPhase.Downloading, layer, done), feed, cancellationToken).ConfigureAwait(false);
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
