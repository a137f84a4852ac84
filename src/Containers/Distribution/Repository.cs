using Containers.Distribution.Http;
using Containers.Images;

namespace Containers.Distribution;

/// <summary>One repository on one registry, with the token scopes requests to it need and its API paths.</summary>
internal sealed record Repository(RegistryEndpoint Endpoint, string Name, IReadOnlyList<string> Scopes)
{
    public static IReadOnlyList<string> PullScope(string repository) => [$"repository:{repository}:pull"];

    public static IReadOnlyList<string> PushScope(string repository) => [$"repository:{repository}:pull,push"];

    public string Registry => Endpoint.Registry;

    public Uri ManifestUri(string tagOrDigest) => Endpoint.Uri($"v2/{Name}/manifests/{tagOrDigest}");

    public Uri BlobUri(Digest digest) => Endpoint.Uri($"v2/{Name}/blobs/{digest}");

    public Uri UploadsUri(string query = "") => Endpoint.Uri($"v2/{Name}/blobs/uploads/{query}");
}
