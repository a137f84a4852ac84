using Containers.Images.Model;
using Containers.Linux;

namespace Containers.Images.Store;

/// <summary>
/// The <c>oci-layout</c> and <c>index.json</c> files of an OCI image layout. <c>index.json</c> is replaced
/// atomically (temp file, fsync, rename, fsync the directory); callers hold the store's exclusive lock while they
/// read, modify and write it.
/// </summary>
internal static class LayoutIndex
{
    public const string FileName = "index.json";

    public static ImageIndex Empty { get; } = new() { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [] };

    public static async Task InitializeAsync(string root, CancellationToken cancellationToken)
    {
        string layout = Path.Combine(root, OciLayoutFile.FileName);
        if (!File.Exists(layout))
        {
            await AtomicFile.WriteAsync(layout, ImageDocuments.Serialize(new OciLayoutFile { ImageLayoutVersion = OciLayoutFile.CurrentVersion }), cancellationToken).ConfigureAwait(false);
        }

        if (!File.Exists(Path.Combine(root, FileName)))
        {
            await WriteAsync(root, Empty, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<ImageIndex> ReadAsync(string root, CancellationToken cancellationToken)
    {
        string path = Path.Combine(root, FileName);
        byte[] content = await ContentStore.ReadBoundedAsync(path, path, cancellationToken).ConfigureAwait(false);
        return ImageDocuments.ReadIndex(content, MediaTypes.OciIndex, path);
    }

    public static Task WriteAsync(string root, ImageIndex index, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(Path.Combine(root, FileName), ImageDocuments.Serialize(index), cancellationToken);

    /// <summary>The reference an index entry is tagged with, or null for an untagged entry.</summary>
    public static ImageReference? NameOf(Descriptor entry) =>
        entry.Annotations is { } annotations && annotations.TryGetValue(AnnotationKeys.RefName, out var name) && ImageReference.TryParse(name, out var reference)
            ? reference
            : null;

    /// <summary>An index entry for a manifest, tagged with <paramref name="name"/> when there is one.</summary>
    public static Descriptor Entry(Descriptor manifest, ImageReference? name, Platform? platform) => new()
    {
        MediaType = manifest.MediaType,
        Digest = manifest.Digest,
        Size = manifest.Size,
        Platform = platform,
        Annotations = name is null ? null : new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [AnnotationKeys.RefName] = name.ToString(),
            [AnnotationKeys.ContainerdImageName] = name.ToString(),
        },
    };
}
