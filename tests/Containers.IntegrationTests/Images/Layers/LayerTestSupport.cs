using System.Diagnostics;
using System.Formats.Tar;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Images;
using Containers.Images.Snapshots;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>Processes, OCI layouts and tree listings for the layer integration tests.</summary>
[SupportedOSPlatform("linux")]
internal static class LayerTestSupport
{
    /// <summary>A scratch directory on tmpfs (these tests create and delete whole trees).</summary>
    public static string ScratchDirectory(string prefix)
    {
        string baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string dir = Path.Combine(baseDir, prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void RemoveTree(string dir)
    {
        if (Directory.Exists(dir))
        {
            Run("rm", "-rf", "--one-file-system", dir);
        }
    }

    /// <summary>Runs a tool and returns its stdout; a non-zero exit fails the test with stderr.</summary>
    public static byte[] Run(string file, params string[] arguments) => Run(file, arguments, workingDirectory: null);

    public static byte[] Run(string file, string[] arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.ToArray();
    }

    public static string Sh(string script, string? workingDirectory = null) =>
        Encoding.UTF8.GetString(Run("sh", ["-ec", script], workingDirectory));

    /// <summary>The layers of <paramref name="reference"/> in an OCI layout: blob path, media type and diff id.</summary>
    public static List<(string Blob, LayerCompression Compression, Digest DiffId)> Layers(string layout, string reference)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var manifestDescriptor = index.RootElement.GetProperty("manifests").EnumerateArray().First(m =>
            m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var n) && n.GetString() == reference);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(BlobPath(layout, manifestDescriptor.GetProperty("digest").GetString()!)));
        using var config = JsonDocument.Parse(File.ReadAllBytes(BlobPath(layout, manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!)));
        var diffIds = config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => Digest.Parse(d.GetString()!)).ToList();
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(diffIds.Count, layers.Count);
        return layers.Select((layer, i) =>
        {
            string mediaType = layer.GetProperty("mediaType").GetString()!;
            var compression = mediaType.EndsWith("+gzip", StringComparison.Ordinal) ? LayerCompression.Gzip
                : mediaType.EndsWith("+zstd", StringComparison.Ordinal) ? LayerCompression.Zstd : LayerCompression.None;
            return (BlobPath(layout, layer.GetProperty("digest").GetString()!), compression, diffIds[i]);
        }).ToList();
    }

    /// <summary>Applies every layer of an image into <paramref name="store"/>; returns the snapshot dirs, bottom first.</summary>
    public static async Task<List<string>> ApplyImageAsync(SnapshotStore store, string layout, string reference)
    {
        var dirs = new List<string>();
        Digest? parent = null;
        foreach (var (blob, compression, diffId) in Layers(layout, reference))
        {
            var chainId = SnapshotStore.ChainId(parent, diffId);
            dirs.Add(await store.EnsureAsync(
                chainId, diffId, _ => Task.FromResult<Stream>(File.OpenRead(blob)), compression, null, TestContext.Current.CancellationToken));
            parent = chainId;
        }

        return dirs;
    }

    /// <summary>
    /// Every entry of a tree as GNU tar (sorted, with xattrs) reports it: type, mode, owner, content hash, link
    /// target and, for hard links, the path of the first name of the same inode. The root itself is left out.
    /// </summary>
    public static SortedDictionary<string, string> Listing(Stream tar, bool withTimes = false)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var reader = new TarReader(tar);
        while (reader.GetNextEntry() is { } entry)
        {
            string name = entry.Name.TrimEnd('/');
            if (name is "." or "")
            {
                continue;
            }

            string content = entry.DataStream is null ? "-" : Convert.ToHexStringLower(SHA256.HashData(entry.DataStream));
            string xattrs = entry is PaxTarEntry pax
                ? string.Join(",", pax.ExtendedAttributes.Where(a => a.Key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key[13..]}={a.Value}"))
                : string.Empty;
            string device = entry.EntryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice && entry is PosixTarEntry posix
                ? $"{posix.DeviceMajor}:{posix.DeviceMinor}"
                : string.Empty;
            entries[name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name] =
                $"{entry.EntryType} mode={Convert.ToString((int)entry.Mode, 8)} owner={entry.Uid}:{entry.Gid} content={content} link={entry.LinkName.TrimStart('.', '/')} dev={device} xattrs={xattrs}" + (withTimes ? $" mtime={entry.ModificationTime.ToUnixTimeMilliseconds()}" : string.Empty);
        }

        return entries;
    }

    public static SortedDictionary<string, string> ListDirectory(string dir, bool withTimes = false) =>
        Listing(new MemoryStream(Run("tar", "--sort=name", "--format=pax", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", dir, "-cf", "-", ".")), withTimes);

    /// <summary>Mounts the snapshots as a read-only overlay in a private mount namespace and lists the merged tree.</summary>
    /// <remarks>Rootless: the namespace is a user namespace mapping the caller to root and overlay uses userxattr.</remarks>
    public static SortedDictionary<string, string> ListOverlay(IReadOnlyList<string> lowerBottomFirst, string mountPoint, bool rootless = false)
    {
        Directory.CreateDirectory(mountPoint);
        string lower = string.Join(":", lowerBottomFirst.Reverse());
        string options = $"lowerdir={lower}" + (rootless ? ",userxattr" : string.Empty);
        byte[] tar = Run("unshare", rootless ? "-Urm" : "-m", "--propagation", "private", "sh", "-ec",
            $"mount -t overlay overlay -o '{options}' '{mountPoint}' && tar --sort=name --xattrs --xattrs-include='*' --numeric-owner -C '{mountPoint}' -cf - .");
        return Listing(new MemoryStream(tar));
    }

    /// <summary>Lists a directory from a user namespace mapping the caller to root (owners read as 0 like the overlay's).</summary>
    public static SortedDictionary<string, string> ListDirectoryAsMappedRoot(string dir) =>
        Listing(new MemoryStream(Run("unshare", "-Ur", "tar", "--sort=name", "--format=pax", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", dir, "-cf", "-", ".")));

    public static void AssertSameTree(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var differences = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(k => !expected.TryGetValue(k, out var e) || !actual.TryGetValue(k, out var a) || e != a)
            .Select(k => $"{k}:\n  expected {expected.GetValueOrDefault(k, "(missing)")}\n  actual   {actual.GetValueOrDefault(k, "(missing)")}")
            .ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} entries differ:\n" + string.Join("\n", differences.Take(30)));
    }

    private static string BlobPath(string layout, string digest)
    {
        var d = Digest.Parse(digest);
        return Path.Combine(layout, "blobs", d.Algorithm, d.Hex);
    }
}
