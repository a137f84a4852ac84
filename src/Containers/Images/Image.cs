using Containers.Images.Model;

namespace Containers.Images;

/// <summary>An image in the store: its manifest, its config and the names it is tagged with.</summary>
public sealed record Image
{
    /// <summary>The descriptor of the manifest, as the store's <c>index.json</c> lists it.</summary>
    public required Descriptor Descriptor { get; init; }

    /// <summary>The manifest's digest: the image's identity in the store.</summary>
    public Digest Digest => Descriptor.Digest;

    /// <summary>The manifest.</summary>
    public required ImageManifest Manifest { get; init; }

    /// <summary>The config.</summary>
    public required ImageConfig Config { get; init; }

    /// <summary>The names the image is tagged with (empty for an untagged image).</summary>
    public required IReadOnlyList<ImageReference> References { get; init; }

    /// <summary>The stored size: the manifest, the config and the (compressed) layers.</summary>
    public long Size => Descriptor.Size + Manifest.Config.Size + Manifest.Layers.Sum(l => l.Size);

    /// <summary>
    /// The image as indented JSON, as <c>containers image inspect</c> prints it: <c>Digest</c>, <c>References</c>,
    /// <c>Created</c>, <c>Platform</c>, <c>Size</c>, then the <c>Config</c> and <c>Manifest</c> documents.
    /// </summary>
    /// <example>
    /// <code>
    /// Console.WriteLine((await store.ResolveAsync("busybox:1.36")).ToJson());
    /// </code>
    /// </example>
    public string ToJson() => ImageInspectDocument.ToJson(this);
}
