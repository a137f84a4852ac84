using System.Formats.Tar;
using System.IO.Compression;
using Containers.Images.Model;
using Containers.Images.Snapshots;
using Containers.Images.Store;

namespace Containers.Images.Archives;

/// <summary>
/// Writes one image from the store as an OCI layout directory, an oci-archive or a docker-archive. The output is
/// built under a temporary name beside <c>path</c> and renamed into place when complete, so a cancelled or failed
/// export leaves nothing behind.
/// </summary>
internal static class ImageExporter
{
    private static readonly UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private static readonly UnixFileMode FileMode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static async Task ExportAsync(ContentStore content, Image image, ImageReference? name, string path, ImageArchiveFormat format, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full) || (Directory.Exists(full) && (format != ImageArchiveFormat.OciLayout || Directory.EnumerateFileSystemEntries(full).Any())))
        {
            throw new ContainersException($"export target {full} already exists: choose a new path or remove it first");
        }

        string parent = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(parent))
        {
            throw new ContainersException($"cannot export to {full}: the directory {parent} does not exist");
        }

        string temporary = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            switch (format)
            {
                case ImageArchiveFormat.OciLayout:
                    await WriteLayoutDirectoryAsync(content, image, name, temporary, progress, cancellationToken).ConfigureAwait(false);
                    if (Directory.Exists(full))
                    {
                        Directory.Delete(full);
                    }

                    Directory.Move(temporary, full);
                    break;
                case ImageArchiveFormat.OciArchive:
                    await WriteArchiveAsync(temporary, writer => WriteLayoutArchiveAsync(content, image, name, writer, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
                    File.Move(temporary, full);
                    break;
                case ImageArchiveFormat.DockerArchive:
                    await WriteArchiveAsync(temporary, writer => WriteDockerArchiveAsync(content, image, name, writer, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
                    File.Move(temporary, full);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(format), format, "unknown export format");
            }
        }
        catch
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }

            File.Delete(temporary);
            throw;
        }
    }

    private static (byte[] Layout, byte[] Index) LayoutFiles(Image image, ImageReference? name) =>
        (ImageDocuments.Serialize(new OciLayoutFile { ImageLayoutVersion = OciLayoutFile.CurrentVersion }),
         ImageDocuments.Serialize(
             LayoutIndex.Empty with { Manifests = [LayoutIndex.Entry(image.Descriptor, name, image.Config.Platform)] }));

    private static IEnumerable<Digest> Blobs(Image image) =>
        new[] { image.Digest, image.Manifest.Config.Digest }.Concat(image.Manifest.Layers.Select(l => l.Digest)).Distinct();

    private static async Task WriteLayoutDirectoryAsync(ContentStore content, Image image, ImageReference? name, string directory, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var (layout, index) = LayoutFiles(image, name);
        await File.WriteAllBytesAsync(Path.Combine(directory, OciLayoutFile.FileName), layout, cancellationToken).ConfigureAwait(false);
        foreach (var digest in Blobs(image))
        {
            string target = Path.Combine(directory, "blobs", digest.Algorithm, digest.Hex);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var input = content.OpenRead(digest);
            await using (input.ConfigureAwait(false))
            {
                var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await using (output.ConfigureAwait(false))
                {
                    await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                }
            }

            progress?.Report(new ImageProgress(ImageProgressPhase.Writing, digest.ToString(), 1, 1));
        }

        await File.WriteAllBytesAsync(Path.Combine(directory, LayoutIndex.FileName), index, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteArchiveAsync(string file, Func<TarWriter, Task> write, CancellationToken cancellationToken)
    {
        var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                await write(writer).ConfigureAwait(false);
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
    }

    private static async Task WriteLayoutArchiveAsync(ContentStore content, Image image, ImageReference? name, TarWriter writer, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        var (layout, index) = LayoutFiles(image, name);
        await WriteBytesAsync(writer, OciLayoutFile.FileName, layout, cancellationToken).ConfigureAwait(false);
        await WriteDirectoryAsync(writer, "blobs/", cancellationToken).ConfigureAwait(false);
        await WriteDirectoryAsync(writer, "blobs/sha256/", cancellationToken).ConfigureAwait(false);
        foreach (var digest in Blobs(image))
        {
            var input = content.OpenRead(digest);
            await using (input.ConfigureAwait(false))
            {
                await WriteStreamAsync(writer, $"blobs/{digest.Algorithm}/{digest.Hex}", input, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(new ImageProgress(ImageProgressPhase.Writing, digest.ToString(), 1, 1));
        }

        await WriteBytesAsync(writer, LayoutIndex.FileName, index, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The <c>docker save</c> form: the config as <c>HEX.json</c>, each layer uncompressed as <c>DIFFID/layer.tar</c>
    /// (its content checked against the config's diff id while decompressing), <c>manifest.json</c> and
    /// <c>repositories</c>.
    /// </summary>
    private static async Task WriteDockerArchiveAsync(ContentStore content, Image image, ImageReference? name, TarWriter writer, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        string configName = image.Manifest.Config.Digest.Hex + ".json";
        var configStream = content.OpenRead(image.Manifest.Config.Digest);
        await using (configStream.ConfigureAwait(false))
        {
            await WriteStreamAsync(writer, configName, configStream, cancellationToken).ConfigureAwait(false);
        }

        var layerNames = new List<string>();
        for (int i = 0; i < image.Manifest.Layers.Count; i++)
        {
            var layer = image.Manifest.Layers[i];
            var diffId = image.Config.RootFS.DiffIds[i];
            string layerName = $"{diffId.Hex}/layer.tar";
            layerNames.Add(layerName);
            if (layerNames.IndexOf(layerName) < i)
            {
                continue;
            }

            string temporary = Path.Combine(content.IngestDirectory, $"export-{Guid.NewGuid():N}.tar");
            try
            {
                var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
                await using (output.ConfigureAwait(false))
                {
                    var compression = MediaTypes.LayerCompressionOf(layer.MediaType) ?? LayerCompression.None;
                    var input = Decompress(content.OpenRead(layer.Digest), compression);
                    await using (input.ConfigureAwait(false))
                    {
                        var layerProgress = progress is null ? null : new SynchronousProgress<long>(done => progress.Report(new ImageProgress(ImageProgressPhase.Writing, layer.Digest.ToString(), done, 0)));
                        var (actual, _) = await ContentStore.HashCopyAsync(input, output, diffId.Algorithm, long.MaxValue - 1, layerProgress, cancellationToken).ConfigureAwait(false);
                        if (actual != diffId)
                        {
                            throw new DigestMismatchException($"layer {layer.Digest} (diff id {i})", diffId, actual);
                        }
                    }

                    output.Position = 0;
                    await WriteDirectoryAsync(writer, diffId.Hex + "/", cancellationToken).ConfigureAwait(false);
                    await WriteStreamAsync(writer, layerName, output, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        var repoTags = name is { Tag: not null } ? new List<string> { name.FamiliarName } : [];
        var manifest = new List<DockerArchiveEntry> { new() { Config = configName, RepoTags = repoTags, Layers = layerNames } };
        await WriteBytesAsync(writer, "manifest.json", ImageDocuments.Serialize<IReadOnlyList<DockerArchiveEntry>>(manifest), cancellationToken).ConfigureAwait(false);
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (name is { Tag: { } tag } && image.Config.RootFS.DiffIds.Count > 0)
        {
            string familiar = name.FamiliarName;
            string repository = familiar[..familiar.LastIndexOf(':')];
            repositories[repository] = new Dictionary<string, string>(StringComparer.Ordinal) { [tag] = image.Config.RootFS.DiffIds[^1].Hex };
        }

        await WriteBytesAsync(writer, "repositories", ImageDocuments.Serialize(repositories), cancellationToken).ConfigureAwait(false);
    }

    private static Task WriteDirectoryAsync(TarWriter writer, string name, CancellationToken cancellationToken) =>
        writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, name) { Mode = DirectoryMode, ModificationTime = DateTimeOffset.UnixEpoch }, cancellationToken);

    private static Task WriteBytesAsync(TarWriter writer, string name, byte[] content, CancellationToken cancellationToken) =>
        WriteStreamAsync(writer, name, new MemoryStream(content, writable: false), cancellationToken);

    private static async Task WriteStreamAsync(TarWriter writer, string name, Stream data, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = FileMode644, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data };
        await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    private static Stream Decompress(Stream stream, LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => new GZipStream(stream, CompressionMode.Decompress, leaveOpen: false),
        LayerCompression.Zstd => new ZstdSharp.DecompressionStream(stream, leaveOpen: false),
        _ => stream,
    };
}
