using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Containers.Images;
using Containers.Images.Snapshots;
using Containers.Linux;

namespace Containers.Benchmarks;

/// <summary>
/// Applying a ~110 MB gzip layer (a Debian-like tree taken from the host's /usr/share and /usr/lib) into a fresh
/// tmpfs directory, against GNU tar extracting the same blob in the same run; and the same for zstd.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class LayerBenchmarks
{
    private const string CacheDir = "/dev/shm/containers-bench";
    private const long TargetTarBytes = 260L << 20;

    private string _gzip = string.Empty;
    private string _zstd = string.Empty;
    private Digest _gzipDiffId;
    private string _workDir = string.Empty;
    private string _target = string.Empty;
    private int _iteration;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(CacheDir);
        string tar = Path.Combine(CacheDir, "layer.tar");
        _gzip = tar + ".gz";
        _zstd = tar + ".zst";
        if (!File.Exists(_gzip) || !File.Exists(_zstd))
        {
            BuildLayer(tar);
        }

        _gzipDiffId = Digest.Parse(File.ReadAllText(tar + ".diffid").Trim());
        _workDir = Path.Combine(CacheDir, "work");
        DirectoryTree.Remove(_workDir);
        Directory.CreateDirectory(_workDir);
    }

    [IterationSetup]
    public void FreshTarget()
    {
        _target = Path.Combine(_workDir, $"run-{_iteration++}");
        Directory.CreateDirectory(_target);
    }

    [IterationCleanup]
    public void RemoveTarget() => DirectoryTree.Remove(_target);

    [GlobalCleanup]
    public void Cleanup() => DirectoryTree.Remove(_workDir);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("gzip")]
    public void TarExtract() => Run("tar", "-xzf", _gzip, "-C", _target);

    [Benchmark]
    [BenchmarkCategory("gzip")]
    public Task<string> Apply() => ApplyAsync(_gzip, LayerCompression.Gzip);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("zstd")]
    public void TarExtractZstd() => Run("tar", "--zstd", "-xf", _zstd, "-C", _target);

    [Benchmark]
    [BenchmarkCategory("zstd")]
    public Task<string> ApplyZstd() => ApplyAsync(_zstd, LayerCompression.Zstd);

    private Task<string> ApplyAsync(string blob, LayerCompression compression)
    {
        var store = new SnapshotStore(_target, new SnapshotStoreOptions { Rootless = false });
        return store.EnsureAsync(
            _gzipDiffId,
            _gzipDiffId,
            _ => Task.FromResult<Stream>(new FileStream(blob, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16)),
            compression,
            progress: null,
            CancellationToken.None);
    }

    private static void BuildLayer(string tar)
    {
        // A deterministic subset of the host's /usr/share and /usr/lib, sized like a large Debian layer. find(1)
        // lists without following symbolic links.
        var names = new List<string>();
        foreach (string top in new[] { "usr/share", "usr/lib" })
        {
            long budget = TargetTarBytes / 2;
            var find = new ProcessStartInfo("find", [top, "-xdev", "-printf", "%y %s %p\\n"])
            {
                WorkingDirectory = "/",
                RedirectStandardOutput = true,
            };
            using var process = Process.Start(find)!;
            var lines = new List<string>();
            while (process.StandardOutput.ReadLine() is string line)
            {
                lines.Add(line);
            }

            process.WaitForExit();
            foreach (string line in lines.OrderBy(l => l.Split(' ', 3)[2], StringComparer.Ordinal))
            {
                string[] parts = line.Split(' ', 3);
                long size = parts[0] == "f" ? (long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 511) / 512 * 512 : 0;
                if (budget <= 0)
                {
                    break;
                }

                names.Add(parts[2]);
                budget -= 512 + size;
            }
        }

        string list = tar + ".list";
        File.WriteAllLines(list, names);
        Run("tar", "-C", "/", "--no-recursion", "-T", list, "-cf", tar);
        Run("sh", "-c", $"pigz -6 -c '{tar}' > '{tar}.gz' && zstd -q -3 -T0 -f '{tar}' -o '{tar}.zst'");
        using (var stream = File.OpenRead(tar))
        {
            File.WriteAllText(tar + ".diffid", Digest.FromSha256Hash(System.Security.Cryptography.SHA256.HashData(stream)).ToString());
        }

        File.Delete(tar);
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
