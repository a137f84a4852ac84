using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Images;
using Containers.Images.Snapshots;

namespace Containers.Tests.Images.Layers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
/// <summary>Builds layer blobs in memory and a snapshot store in a temp dir (tmpfs when available).</summary>
internal sealed class LayerFixture : IDisposable
{
    public LayerFixture(bool rootless = true)
    {
        // tmpfs: these tests create and delete many small trees (the root fs has no journal and slows down on churn).
        string baseDir = System.IO.Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        Directory = System.IO.Directory.CreateDirectory(Path.Combine(baseDir, "layers-test-" + Guid.NewGuid().ToString("N"))).FullName;

        Store = new SnapshotStore(Path.Combine(Directory, "snapshots"), new SnapshotStoreOptions { Rootless = rootless });
    }

    public string Directory { get; }

    public SnapshotStore Store { get; }

    public static byte[] Tar(Action<TarWriter> write, TarEntryFormat format = TarEntryFormat.Pax)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, format, leaveOpen: true))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    public static byte[] Gzip(byte[] tar)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return buffer.ToArray();
    }

    public static byte[] Zstd(byte[] tar)
    {
        using var compressor = new ZstdSharp.Compressor(3);
        return compressor.Wrap(tar).ToArray();
    }

    public static Digest DiffId(byte[] tar) => Digest.FromSha256Hash(SHA256.HashData(tar));

    /// <summary>Applies an uncompressed tar as a first layer and returns its snapshot directory.</summary>
    public Task<string> ApplyAsync(byte[] tar) => ApplyAsync(tar, DiffId(tar), LayerCompression.None, tar);

    public Task<string> ApplyAsync(byte[] tar, Digest diffId, LayerCompression compression, byte[] blob) =>
        Store.EnsureAsync(
            SnapshotStore.ChainId(null, diffId),
            diffId,
            _ => Task.FromResult<Stream>(new MemoryStream(blob)),
            compression,
            progress: null,
            TestContext.Current.CancellationToken);

    public static PaxTarEntry File(string name, string content, UnixFileMode mode = (UnixFileMode)0x1A4)
    {
        return new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
            Mode = mode,
            ModificationTime = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero),
        };
    }

    public static PaxTarEntry Dir(string name, UnixFileMode mode = (UnixFileMode)0x1ED) =>
        new(TarEntryType.Directory, name) { Mode = mode, ModificationTime = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero) };

    public static PaxTarEntry Symlink(string name, string target) =>
        new(TarEntryType.SymbolicLink, name) { LinkName = target };

    public static PaxTarEntry HardLink(string name, string target) =>
        new(TarEntryType.HardLink, name) { LinkName = target };

    /// <summary>The names in a snapshot, relative, sorted, directories with a trailing slash.</summary>
    public static List<string> Listing(string root) =>
        System.IO.Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(root, p) + (System.IO.Directory.Exists(p) && !new FileInfo(p).Attributes.HasFlag(FileAttributes.ReparsePoint) ? "/" : string.Empty))
            .Order(StringComparer.Ordinal)
            .ToList();

    public void Dispose()
    {
        Containers.Linux.DirectoryTree.Remove(Directory);
    }
}
