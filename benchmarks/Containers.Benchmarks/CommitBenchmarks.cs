using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Containers.Images;
using Containers.Linux;

namespace Containers.Benchmarks;

/// <summary>
/// Committing an overlay upper directory of ~100 MB in ~5 000 files (taken from the host's /usr/share and /usr/lib,
/// plus 50 whiteouts when run as root) into a store on tmpfs, against <c>tar -czf</c> of the
/// same directory in the same run (and the same commit with a zstd layer). Both write their archive to tmpfs.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class CommitBenchmarks
{
    private const string CacheDir = "/dev/shm/containers-bench-commit";
    private const long TargetBytes = 100L << 20;
    private const int TargetFiles = 5000;

    private string _upper = string.Empty;
    private string _output = string.Empty;
    private ImageStore? _store;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(CacheDir);
        _upper = Path.Combine(CacheDir, "upper");
        if (!Directory.Exists(_upper))
        {
            BuildUpper(_upper);
        }

        string root = Path.Combine(CacheDir, "store");
        DirectoryTree.Remove(root);
        _store = ImageStore.OpenAsync(new ImageStoreOptions { Root = root }).GetAwaiter().GetResult();
        string layout = Path.Combine(CacheDir, "base");
        DirectoryTree.Remove(layout);
        WriteEmptyImage(layout);
        _store.ImportAsync(layout, "base:latest", progress: null, CancellationToken.None).GetAwaiter().GetResult();
        _output = Path.Combine(CacheDir, "out.tar.gz");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        DirectoryTree.Remove(Path.Combine(CacheDir, "store"));
        File.Delete(_output);
    }

    [Benchmark(Baseline = true)]
    public void TarCzf() => Run("tar", "-czf", _output, "-C", _upper, ".");

    [Benchmark]
    public Task<Image> Commit() => _store!.CommitAsync("base:latest", _upper, new CommitOptions { Tag = "committed:latest" }, progress: null, CancellationToken.None);

    [Benchmark]
    public Task<Image> CommitZstd() => _store!.CommitAsync(
        "base:latest", _upper, new CommitOptions { Tag = "committed:zstd", Compression = LayerCompressionFormat.Zstd }, progress: null, CancellationToken.None);

    /// <summary>An OCI layout holding one image without layers: the base a commit adds its layer to.</summary>
    private static void WriteEmptyImage(string layout)
    {
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        byte[] config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = Digest.Sha256(config);
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", configDigest.Hex), config);
        byte[] manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[]}""");
        var manifestDigest = Digest.Sha256(manifest);
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", manifestDigest.Hex), manifest);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(
            Path.Combine(layout, "index.json"),
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest
                + "\",\"size\":" + manifest.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}");
    }

    /// <summary>
    /// Copies a deterministic set of the host's files (between 2 and 64 KiB, so that ~5 000 make ~100 MB) into
    /// <paramref name="upper"/>, then adds whiteouts, as a container's upper directory holds them (as root; an
    /// unprivileged run has only the files).
    /// </summary>
    private static void BuildUpper(string upper)
    {
        var find = new ProcessStartInfo("find", ["usr/share", "usr/lib", "-xdev", "-type", "f", "-size", "+2k", "-size", "-64k", "-printf", "%s %p\\n"])
        {
            WorkingDirectory = "/",
            RedirectStandardOutput = true,
        };
        var candidates = new List<(long Size, string Path)>();
        using (var process = Process.Start(find)!)
        {
            while (process.StandardOutput.ReadLine() is string line)
            {
                string[] parts = line.Split(' ', 2);
                candidates.Add((long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1]));
            }

            process.WaitForExit();
        }

        candidates.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        long average = candidates.Count == 0 ? 1 : Math.Max(1, candidates.Sum(c => c.Size) / candidates.Count);
        int step = Math.Max(1, (int)(candidates.Count / Math.Max(1, TargetBytes / average)));
        var chosen = new List<string>();
        long total = 0;
        for (int i = 0; i < candidates.Count && total < TargetBytes; i += step)
        {
            chosen.Add(candidates[i].Path);
            total += candidates[i].Size;
        }

        string list = upper + ".list";
        File.WriteAllLines(list, chosen);
        Directory.CreateDirectory(upper);
        Run("sh", "-c", $"tar -C / -T '{list}' -cf - | tar -C '{upper}' -xf -");
        if (Environment.IsPrivilegedProcess)
        {
            Run("sh", "-c", $"cd '{upper}' && mkdir -p gone && for i in $(seq 1 50); do mknod gone/file-$i c 0 0; done");
        }

        Console.WriteLine($"// upper directory: {chosen.Count} files, {total >> 20} MiB (target ~{TargetFiles} files, ~{TargetBytes >> 20} MiB)");
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
        }
    }
}
