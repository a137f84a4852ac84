using Containers.Images;
using Containers.Images.Model;

namespace Containers.Distribution;

/// <summary>What a reference names in a registry: the image manifest for the chosen platform, verified by digest.</summary>
public sealed record ResolvedImage
{
    /// <summary>The reference that was resolved (normalised: <c>docker.io/library/busybox:latest</c>).</summary>
    public required ImageReference Reference { get; init; }

    /// <summary>The descriptor of the platform's image manifest (its digest is what <c>name@digest</c> pins).</summary>
    public required Descriptor Descriptor { get; init; }

    /// <summary>The image manifest.</summary>
    public required ImageManifest Manifest { get; init; }

    /// <summary>The digest of the index (or Docker manifest list) the manifest was chosen from, if the reference named one.</summary>
    public Digest? IndexDigest { get; init; }

    /// <summary>The manifest exactly as the registry sent it (its sha256 is <see cref="Descriptor"/>'s digest).</summary>
    internal byte[] ManifestBytes { get; init; } = [];
}
