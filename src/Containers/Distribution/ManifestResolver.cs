using System.Net;
using System.Net.Http.Headers;
using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;
using Containers.Images.Store;

namespace Containers.Distribution;

/// <summary>
/// Resolves <c>name:tag</c> or <c>name@digest</c> to an image manifest: <c>HEAD</c> for the digest, then <c>GET</c> by
/// digest with the OCI and Docker media types accepted; an index (or manifest list) is narrowed to the requested
/// platform. Every document is size-capped and checked against its digest before it is parsed.
/// </summary>
internal sealed class ManifestResolver(RegistryTransport transport)
{
    private static readonly string[] Accept = [MediaTypes.OciManifest, MediaTypes.DockerManifest, MediaTypes.OciIndex, MediaTypes.DockerManifestList];

    public async Task<ResolvedImage> ResolveAsync(Repository repository, ImageReference reference, Platform platform, CancellationToken cancellationToken)
    {
        string what = $"resolve {reference}";
        string target = reference.Digest?.ToString() ?? reference.Tag!;
        var headDigest = await HeadAsync(repository, target, what, cancellationToken).ConfigureAwait(false);
        if (reference.Digest is { } pinned && headDigest is { } announced && announced != pinned)
        {
            throw new RegistryException($"{what}: the registry announces digest {announced} for a reference pinned to {pinned}");
        }

        var expected = reference.Digest ?? headDigest;
        var (content, mediaType) = await GetAsync(repository, expected?.ToString() ?? target, expected, null, what, cancellationToken).ConfigureAwait(false);
        var digest = ContentStore.Hash(expected?.Algorithm ?? "sha256", content);
        string kind = MediaTypes.IsIndex(mediaType) || MediaTypes.IsManifest(mediaType) ? mediaType! : ImageDocuments.DetectKind(content, what);
        if (!MediaTypes.IsIndex(kind))
        {
            return Resolved(reference, kind, digest, content, null, what);
        }

        var index = ImageDocuments.ReadIndex(content, kind, what);
        var chosen = Select(index, platform, reference);
        string childWhat = $"{what} ({platform})";
        var (child, childType) = await GetAsync(repository, chosen.Digest.ToString(), chosen.Digest, chosen.Size, childWhat, cancellationToken).ConfigureAwait(false);
        if (childType is not null && childType != chosen.MediaType && MediaTypes.IsManifest(childType))
        {
            throw new RegistryException($"{childWhat}: the index says {chosen.MediaType} but the registry sent {childType}");
        }

        return Resolved(reference, chosen.MediaType, chosen.Digest, child, digest, childWhat);
    }

    /// <summary>Chooses the manifest for <paramref name="platform"/>: an exact variant match first, then any match.</summary>
    internal static Descriptor Select(ImageIndex index, Platform platform, ImageReference reference)
    {
        var candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && m.Platform is not null && platform.Matches(m.Platform)).ToList();
        var exact = candidates.FirstOrDefault(m => string.Equals(m.Platform!.Variant, platform.Variant, StringComparison.Ordinal));
        if ((exact ?? candidates.FirstOrDefault()) is { } found)
        {
            return found;
        }

        var offered = index.Manifests.Where(m => m.Platform is not null && m.Platform.OS != "unknown").Select(m => m.Platform!.ToString()).Distinct().ToList();
        throw new RegistryNotFoundException(
            $"{reference} has no image for {platform}; it offers {(offered.Count == 0 ? "no platforms" : string.Join(", ", offered))} (choose one with --platform)",
            []);
    }

    private static ResolvedImage Resolved(ImageReference reference, string mediaType, Digest digest, byte[] content, Digest? indexDigest, string what) => new()
    {
        Reference = reference,
        Descriptor = new Descriptor { MediaType = mediaType, Digest = digest, Size = content.Length },
        Manifest = ImageDocuments.ReadManifest(content, mediaType, what),
        IndexDigest = indexDigest,
        ManifestBytes = content,
    };

    /// <summary>HEAD: the digest the registry announces, or null when it announces none or does not support HEAD.</summary>
    private async Task<Digest?> HeadAsync(Repository repository, string target, string what, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => Request(HttpMethod.Head, repository.ManifestUri(target)), what, retryable: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            return null;
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryNotFoundException($"{what}: {repository.Registry} has no manifest {repository.Name}:{target}", []);
        }

        await RegistryResponses.EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        return ContentDigest(response, what);
    }

    private async Task<(byte[] Content, string? MediaType)> GetAsync(Repository repository, string target, Digest? expected, long? expectedSize, string what, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => Request(HttpMethod.Get, repository.ManifestUri(target)), what, retryable: true, cancellationToken).ConfigureAwait(false);
        await RegistryResponses.EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        long limit = Math.Min(expectedSize ?? ImageDocuments.MaxDocumentSize, ImageDocuments.MaxDocumentSize);
        byte[] content = await RegistryResponses.ReadBoundedAsync(response.Content, limit, what, cancellationToken).ConfigureAwait(false);
        if (expectedSize is { } size && size != content.Length)
        {
            throw new RegistryException($"{what}: the descriptor says {size} bytes but the registry sent {content.Length}");
        }

        if (expected is { } digest)
        {
            var actual = ContentStore.Hash(digest.Algorithm, content);
            if (actual != digest)
            {
                throw new DigestMismatchException(what, digest, actual);
            }
        }
        else if (ContentDigest(response, what) is { } announced && announced != ContentStore.Hash(announced.Algorithm, content))
        {
            throw new DigestMismatchException(what, announced, ContentStore.Hash(announced.Algorithm, content));
        }

        return (content, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The <c>Docker-Content-Digest</c> header, validated before anything uses it.</summary>
    internal static Digest? ContentDigest(HttpResponseMessage response, string what)
    {
        if (!response.Headers.TryGetValues("Docker-Content-Digest", out var values))
        {
            return null;
        }

        string value = values.First();
        return Digest.TryParse(value, out var digest)
            ? digest
            : throw new RegistryException($"{what}: the registry sent the malformed digest '{(value.Length > 80 ? value[..80] : value)}'");
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        foreach (var type in Accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return request;
    }
}
