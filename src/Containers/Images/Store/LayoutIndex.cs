using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Images.Model;
using Containers.Linux;

namespace Containers.Images.Store;

/// <summary>
/// The <c>oci-layout</c> and <c>index.json</c> files of an OCI image layout. <c>index.json</c> is replaced
/// atomically (temp file, fsync, rename, fsync the directory); callers hold the store's exclusive lock while they
/// read, modify and write it. An entry this version cannot read (written by hand, by another tool, or damaged) does
/// not hide the others: it is kept aside, written back unchanged, and removed only by prune.
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
            await WriteAsync(root, new StoreIndex(Empty, []), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the store's index: the entries it can read, and the raw JSON of those it cannot.</summary>
    /// <exception cref="InvalidImageException">The file is not a JSON object with a <c>manifests</c> array.</exception>
    public static async Task<StoreIndex> ReadAsync(string root, CancellationToken cancellationToken)
    {
        string path = Path.Combine(root, FileName);
        byte[] content = await ContentStore.ReadBoundedAsync(path, path, cancellationToken).ConfigureAwait(false);
        return Parse(content, path);
    }

    /// <summary>Parses an <c>index.json</c> entry by entry.</summary>
    internal static StoreIndex Parse(byte[] content, string what)
    {
        try
        {
            return ParseEntries(content, what);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json reports a string that is not valid UTF-8 only when it is read.
            throw Damaged(what, $"not valid JSON: {e.Message}", e);
        }
    }

    private static StoreIndex ParseEntries(byte[] content, string what)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(content, documentOptions: new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw Damaged(what, $"not valid JSON: {e.Message}", e);
        }

        if (root is not JsonObject document || document["manifests"] is not JsonArray manifests)
        {
            throw Damaged(what, "it is not an object with a 'manifests' array", null);
        }

        var readable = new List<Descriptor>();
        var unreadable = new List<UnreadableEntry>();
        for (int i = 0; i < manifests.Count; i++)
        {
            string raw = manifests[i]?.ToJsonString() ?? "null";
            try
            {
                var entry = ImageDocuments.Deserialize(System.Text.Encoding.UTF8.GetBytes(raw), ImageJsonContext.Default.Descriptor, $"{what}: manifests[{i}]");
                if (!MediaTypes.IsManifest(entry.MediaType) && !MediaTypes.IsIndex(entry.MediaType))
                {
                    throw new InvalidImageException($"{what}: manifests[{i}]: media type '{entry.MediaType}' is neither a manifest nor an index");
                }

                readable.Add(entry);
            }
            catch (InvalidImageException e)
            {
                unreadable.Add(new UnreadableEntry(raw, e.Message));
            }
        }

        document.Remove("manifests");
        var rest = ImageDocuments.Deserialize(System.Text.Encoding.UTF8.GetBytes(document.ToJsonString()), ImageJsonContext.Default.IndexHeader, what);
        var index = new ImageIndex
        {
            SchemaVersion = rest.SchemaVersion,
            MediaType = rest.MediaType ?? MediaTypes.OciIndex,
            Annotations = rest.Annotations,
            Manifests = readable,
        };
        return new StoreIndex(index, unreadable);
    }

    /// <summary>
    /// Writes the index, keeping the unreadable entries as they were. The new content is read back with the store's
    /// own reader before anything is written, so an entry that reader would refuse never reaches the disk.
    /// </summary>
    public static Task WriteAsync(string root, StoreIndex index, CancellationToken cancellationToken)
    {
        byte[] content = ImageDocuments.Serialize(index.Index);
        if (index.Unreadable.Count > 0)
        {
            var document = JsonNode.Parse(content)!.AsObject();
            var manifests = document["manifests"]!.AsArray();
            foreach (var entry in index.Unreadable)
            {
                manifests.Add(JsonNode.Parse(entry.Json));
            }

            content = System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
        }

        var check = Parse(content, "the new index.json");
        if (check.Unreadable.Count != index.Unreadable.Count)
        {
            throw new InvalidImageException($"the store's index would get an entry it cannot read back ({check.Unreadable[^1].Reason}); nothing was written");
        }

        return AtomicFile.WriteAsync(Path.Combine(root, FileName), content, cancellationToken);
    }

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

    private static InvalidImageException Damaged(string what, string reason, Exception? inner) =>
        new($"{what}: the store's index is damaged ({reason}); restore it from a backup or move it away and re-import the images", inner);
}
