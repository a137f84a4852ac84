using System.Net;
using System.Net.Http.Headers;
using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;

namespace Containers.Distribution;

/// <summary>
/// Pushes a stored image: each blob is skipped when the registry has it (<c>HEAD</c>), mounted from another
/// repository of the same registry that the image is known under, or uploaded (one <c>PUT</c> up to the chunk size,
/// <c>PATCH</c> chunks with <c>Content-Range</c> above it); then the manifest is put under the tag, byte for byte as
/// stored, so its digest stays the same.
/// </summary>
internal sealed class ImagePusher(RegistryTransport transport, RegistryClientOptions options, ILogger logger)
{
    public async Task<Digest> PushAsync(ImageStore store, Image image, ImageReference destination, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var content = store.Content;
        var endpoint = await transport.EndpointAsync(destination.Registry, cancellationToken).ConfigureAwait(false);
        string? mountFrom = image.References.FirstOrDefault(r => r.Registry == destination.Registry && r.Repository != destination.Repository)?.Repository;
        IReadOnlyList<string> scopes = mountFrom is null
            ? Repository.PushScope(destination.Repository)
            : [.. Repository.PushScope(destination.Repository), .. Repository.PullScope(mountFrom)];
        var repository = new Repository(endpoint, destination.Repository, scopes);

        var blobs = image.Manifest.Layers.Append(image.Manifest.Config).DistinctBy(b => b.Digest).ToList();
        var tracker = new ProgressTracker(progress, blobs.Sum(b => b.Size));
        using var gate = new SemaphoreSlim(options.MaxConcurrentTransfers);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = blobs.Select(blob => Task.Run(
            async () =>
            {
                await gate.WaitAsync(failed.Token).ConfigureAwait(false);
                try
                {
                    await PushBlobAsync(repository, content, blob, mountFrom, tracker, failed.Token).ConfigureAwait(false);
                }
                catch
                {
                    await failed.CancelAsync().ConfigureAwait(false);
                    throw;
                }
                finally
                {
                    gate.Release();
                }
            },
            CancellationToken.None)).ToList();
        await TransferTasks.WhenAllAsync(tasks, cancellationToken).ConfigureAwait(false);

        byte[] manifest = await content.ReadDocumentAsync(image.Digest, image.Descriptor.Size, $"manifest {image.Digest}", cancellationToken).ConfigureAwait(false);
        string target = destination.Tag ?? image.Digest.ToString();
        string what = $"push manifest {destination.Registry}/{destination.Repository}:{target}";
        using var response = await transport.SendAsync(
            endpoint,
            scopes,
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, repository.ManifestUri(target)) { Content = new ByteArrayContent(manifest) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(image.Descriptor.MediaType);
                return request;
            },
            what,
            retryable: true,
            cancellationToken).ConfigureAwait(false);
        await RegistryResponses.EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        if (ManifestResolver.ContentDigest(response, what) is { } stored && stored != image.Digest)
        {
            throw new RegistryException($"{what}: the registry stored the manifest as {stored}, not {image.Digest}");
        }

        logger.LogInformation("pushed {Image} to {Destination}", image.Digest, destination);
        return image.Digest;
    }

    private async Task PushBlobAsync(Repository repository, ContentStore content, Descriptor blob, string? mountFrom, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        string what = $"push blob {blob.Digest} to {repository.Registry}/{repository.Name}";
        using (var head = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => new HttpRequestMessage(HttpMethod.Head, repository.BlobUri(blob.Digest)), what, retryable: true, cancellationToken).ConfigureAwait(false))
        {
            if (head.IsSuccessStatusCode)
            {
                tracker.Report(TransferPhase.Exists, blob, blob.Size);
                return;
            }

            if (head.StatusCode != HttpStatusCode.NotFound)
            {
                await RegistryResponses.EnsureSuccessAsync(head, what, cancellationToken).ConfigureAwait(false);
            }
        }

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var location = await StartUploadAsync(repository, blob, mountFrom, what, cancellationToken).ConfigureAwait(false);
                if (location is null)
                {
                    logger.LogDebug("mounted {Digest} from {From}", blob.Digest, mountFrom);
                    tracker.Report(TransferPhase.Exists, blob, blob.Size);
                    return;
                }

                if (blob.Size <= options.UploadChunkSize)
                {
                    await PutAsync(repository, location, blob, content, 0, blob.Size, what, tracker, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    for (long offset = 0; offset < blob.Size; offset += options.UploadChunkSize)
                    {
                        long length = Math.Min(options.UploadChunkSize, blob.Size - offset);
                        location = await PatchAsync(repository, location, blob, content, offset, length, what, tracker, cancellationToken).ConfigureAwait(false);
                    }

                    await PutAsync(repository, location, blob, content, blob.Size, 0, what, tracker, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception e) when (attempt < transport.MaxAttempts && (RegistryTransport.IsTransient(e, cancellationToken) || e is RegistryException { StatusCode: >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests }))
            {
                // An upload session cannot be trusted after a failure in the middle; start a new one.
                tracker.Report(TransferPhase.Uploading, blob, 0);
                await transport.BackoffAsync(attempt, null, what, e.Message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (RegistryTransport.IsTransient(e, cancellationToken))
            {
                throw RegistryTransport.Unreachable(repository.Registry, what, e);
            }
        }
    }

    /// <summary>Opens an upload session and returns its location, or null when the registry mounted the blob instead.</summary>
    private async Task<Uri?> StartUploadAsync(Repository repository, Descriptor blob, string? mountFrom, string what, CancellationToken cancellationToken)
    {
        string query = mountFrom is null ? string.Empty : $"?mount={Uri.EscapeDataString(blob.Digest.ToString())}&from={Uri.EscapeDataString(mountFrom)}";
        using var response = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => new HttpRequestMessage(HttpMethod.Post, repository.UploadsUri(query)) { Content = new ByteArrayContent([]) }, what, retryable: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created && mountFrom is not null)
        {
            return null;
        }

        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await RegistryResponses.ErrorAsync(response, what, cancellationToken).ConfigureAwait(false);
        }

        return Location(response, what);
    }

    private async Task<Uri> PatchAsync(Repository repository, Uri location, Descriptor blob, ContentStore content, long offset, long length, string what, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(
            repository.Endpoint,
            repository.Scopes,
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Body(content, blob, offset, length, tracker) };
                request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
                return request;
            },
            what,
            retryable: false,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await RegistryResponses.ErrorAsync(response, what, cancellationToken).ConfigureAwait(false);
        }

        return Location(response, what);
    }

    private async Task PutAsync(Repository repository, Uri location, Descriptor blob, ContentStore content, long offset, long length, string what, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(location);
        string digest = "digest=" + Uri.EscapeDataString(blob.Digest.ToString());
        builder.Query = builder.Query.Length > 1 ? builder.Query[1..] + "&" + digest : digest;
        using var response = await transport.SendAsync(
            repository.Endpoint,
            repository.Scopes,
            () => new HttpRequestMessage(HttpMethod.Put, builder.Uri) { Content = length == 0 ? new ByteArrayContent([]) : Body(content, blob, offset, length, tracker) },
            what,
            retryable: false,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await RegistryResponses.ErrorAsync(response, what, cancellationToken).ConfigureAwait(false);
        }

        if (ManifestResolver.ContentDigest(response, what) is { } stored && stored != blob.Digest)
        {
            throw new RegistryException($"{what}: the registry stored the blob as {stored}");
        }
    }

    private static HttpContent Body(ContentStore content, Descriptor blob, long offset, long length, ProgressTracker tracker)
    {
        var stream = content.OpenRead(blob.Digest);
        stream.Position = offset;
        var body = new StreamContent(new UploadStream(stream, length, done => tracker.Report(TransferPhase.Uploading, blob, offset + done)), 256 * 1024);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        body.Headers.ContentLength = length;
        return body;
    }

    /// <summary>
    /// The upload location a response names, resolved against the request (registries often send a relative path). A
    /// location on another origin is used without credentials (see <see cref="Auth.Authenticator"/>), and never one
    /// that downgrades to plain HTTP.
    /// </summary>
    private Uri Location(HttpResponseMessage response, string what)
    {
        var location = response.Headers.Location ?? throw new RegistryException($"{what}: the registry opened an upload without a Location header");
        var origin = response.RequestMessage!.RequestUri!;
        var resolved = location.IsAbsoluteUri ? location : new Uri(origin, location);
        if (RedirectPolicy.Refusal(origin, resolved, transport.IsInsecure) is { } refusal)
        {
            throw new RegistryRedirectException($"{what}: upload location: {refusal}", new Uri(origin.GetLeftPart(UriPartial.Path)), new Uri(resolved.GetLeftPart(UriPartial.Path)));
        }

        return resolved;
    }
}
