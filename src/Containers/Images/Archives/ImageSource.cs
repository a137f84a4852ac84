using System.Formats.Tar;
using System.IO.Compression;
using Containers.Images.Model;

namespace Containers.Images.Archives;

/// <summary>
/// The files of an image to import. A layout directory is read where it is. An archive is unpacked into a staging
/// directory under the store's <c>ingest/</c>, each regular file under a generated flat name: names from the archive
/// are only keys in a table (links are resolved through the table, never through the file system), so no archive
/// entry can create or reach a path outside the staging directory.
/// </summary>
internal sealed class ImageSource : IDisposable
{
    private const int MaxLinkDepth = 16;

    /// <summary>The expansion a gzip'd archive may have once it has produced <see cref="MinBombCheck"/> bytes (as for layers).</summary>
    private const long MaxExpansion = 1000;

    private const long MinBombCheck = 64L << 20;

    private readonly string? _directory;
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);
    private readonly string? _staging;

    private ImageSource(ImageArchiveFormat format, string? directory, string? staging)
    {
        Format = format;
        _directory = directory;
        _staging = staging;
    }

    public ImageArchiveFormat Format { get; private set; }

    /// <summary>True when the files are private copies that may be moved into the store.</summary>
    public bool IsStaged => _staging is not null;

    public static async Task<ImageSource> OpenAsync(string path, string stagingRoot, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            if (!File.Exists(Path.Combine(path, OciLayoutFile.FileName)))
            {
                throw new InvalidImageException($"{path} is a directory but not an OCI image layout (it has no 'oci-layout' file)");
            }

            return new ImageSource(ImageArchiveFormat.OciLayout, path, null);
        }

        if (!File.Exists(path))
        {
            throw new InvalidImageException($"{path} does not exist: pass an OCI layout directory, an oci-archive or a docker-archive tar");
        }

        string staging = Path.Combine(stagingRoot, $"import-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        var source = new ImageSource(ImageArchiveFormat.OciArchive, null, staging);
        try
        {
            await source.UnpackAsync(path, progress, cancellationToken).ConfigureAwait(false);
            if (source.TryGetFile(OciLayoutFile.FileName, out _))
            {
                source.Format = ImageArchiveFormat.OciArchive;
            }
            else if (source.TryGetFile("manifest.json", out _))
            {
                source.Format = ImageArchiveFormat.DockerArchive;
            }
            else
            {
                throw new InvalidImageException($"{path} is a tar but neither an oci-archive (no 'oci-layout') nor a docker-archive (no 'manifest.json')");
            }

            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Looks up a file by its name inside the image (for example <c>blobs/sha256/…</c>).</summary>
    public bool TryGetFile(string name, out string path)
    {
        if (_directory is not null)
        {
            path = Path.Combine(_directory, name);
            return File.Exists(path);
        }

        string? key = Normalize(name);
        for (int depth = 0; key is not null && depth < MaxLinkDepth; depth++)
        {
            if (_files.TryGetValue(key, out path!))
            {
                return true;
            }

            key = _links.TryGetValue(key, out var target) ? target : null;
        }

        path = string.Empty;
        return false;
    }

    public string GetFile(string name, string what) =>
        TryGetFile(name, out var path) ? path : throw new InvalidImageException($"{what}: '{name}' is missing from the image source");

    public void Dispose()
    {
        if (_staging is not null && Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
    }

    /// <summary>
    /// Unpacks the archive. Every way a tar or gzip reader can fail on bad bytes (a truncated or corrupt stream, an
    /// entry type or header field it does not support, a size it refuses) is an <see cref="InvalidImageException"/>.
    /// </summary>
    private async Task UnpackAsync(string archive, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            await UnpackEntriesAsync(archive, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or NotSupportedException or InvalidOperationException or OverflowException or ArgumentException)
        {
            throw new InvalidImageException($"{archive}: not a valid tar archive: {e.Message}", e);
        }
    }

    private async Task UnpackEntriesAsync(string archive, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        var file = Store.ContentStore.OpenUntrusted(archive, "image archive", followSymlink: true, bufferSize: 1 << 16);
        await using (file.ConfigureAwait(false))
        {
            long total = file.Length;
            Stream input = file;
            var magic = new byte[2];
            int got = await file.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                input = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            }

            await using (input.ConfigureAwait(false))
            {
                await using var reader = new TarReader(input, leaveOpen: true);
                int counter = 0;
                long unpacked = 0;
                while (true)
                {
                    TarEntry? entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
                    if (entry is null)
                    {
                        break;
                    }

                    if (entry.EntryType == TarEntryType.Directory && entry.Name.Split('/').All(part => part is "" or "."))
                    {
                        continue;
                    }

                    string name = Normalize(entry.Name) ?? throw new InvalidImageException($"{archive}: the entry name '{entry.Name}' is not a relative path inside the archive");
                    switch (entry.EntryType)
                    {
                        case TarEntryType.Directory:
                            break;
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                            string staged = Path.Combine(_staging!, $"f{counter++}");
                            var output = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                            await using (output.ConfigureAwait(false))
                            {
                                if (entry.DataStream is { } data)
                                {
                                    try
                                    {
                                        unpacked = await CopyBoundedAsync(data, output, unpacked, input == file ? long.MaxValue : Math.Max(MinBombCheck, MaxExpansion * file.Length), archive, cancellationToken).ConfigureAwait(false);
                                    }
                                    catch (EndOfStreamException e)
                                    {
                                        throw new InvalidImageException($"{archive}: the archive is truncated inside '{name}'", e);
                                    }
                                }
                            }

                            _files[name] = staged;
                            _links.Remove(name);
                            progress?.Report(new ImageProgress(ImageProgressPhase.Reading, Printable.Escape(Path.GetFileName(archive)), file.Position, total));
                            break;
                        case TarEntryType.SymbolicLink:
                            string directory = name.Contains('/', StringComparison.Ordinal) ? name[..name.LastIndexOf('/')] + "/" : string.Empty;
                            _links[name] = Normalize(entry.LinkName.StartsWith('/') ? entry.LinkName : directory + entry.LinkName)
                                ?? throw new InvalidImageException($"{archive}: the link '{name}' points outside the archive ('{entry.LinkName}')");
                            break;
                        case TarEntryType.HardLink:
                            _links[name] = Normalize(entry.LinkName) ?? throw new InvalidImageException($"{archive}: the hard link '{name}' points outside the archive ('{entry.LinkName}')");
                            break;
                        case TarEntryType.GlobalExtendedAttributes:
                            break;
                        default:
                            throw new InvalidImageException($"{archive}: the entry '{name}' has type {entry.EntryType}, which an image archive does not contain");
                    }
                }
            }
        }
    }

    /// <summary>Copies one member, failing once the archive as a whole has unpacked more than <paramref name="limit"/> bytes.</summary>
    private static async Task<long> CopyBoundedAsync(Stream data, Stream output, long unpacked, long limit, string archive, CancellationToken cancellationToken)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                unpacked += read;
                if (unpacked > limit)
                {
                    throw new InvalidImageException($"{archive}: the compressed archive expands to more than {limit} bytes, over {MaxExpansion} times its size (a decompression bomb?)");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return unpacked;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The canonical name of an archive path (<c>./a//b/../c</c> → <c>a/c</c>), or null when it is empty or climbs
    /// above the archive root. A leading '/' is the archive root, as in symlink targets of archives.
    /// </summary>
    internal static string? Normalize(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            switch (part)
            {
                case "" or ".":
                    continue;
                case "..":
                    if (parts.Count == 0)
                    {
                        return null;
                    }

                    parts.RemoveAt(parts.Count - 1);
                    continue;
                default:
                    if (part.Contains('\0', StringComparison.Ordinal))
                    {
                        return null;
                    }

                    parts.Add(part);
                    continue;
            }
        }

        return parts.Count == 0 ? null : string.Join('/', parts);
    }
}
