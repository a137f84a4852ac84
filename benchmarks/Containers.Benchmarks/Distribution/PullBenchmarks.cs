using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Containers.Distribution;
using Containers.Images;
using Containers.Linux;

namespace Containers.Benchmarks.Distribution;

/// <summary>
/// Pulling a ~200 MB, five-layer gzip image from a local <c>docker-registry</c> into an empty store on tmpfs, against
/// the tools a user would chain, in the same run: <c>Pull</c> (layers applied into snapshots) against
/// <c>skopeo copy docker://… oci:DIR</c> followed by <c>umoci unpack</c>, and <c>PullNoUnpack</c> (blobs only)
/// against <c>skopeo copy</c> alone.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class PullBenchmarks
{
    private const string CacheDir = "/dev/shm/containers-bench-pull";

    private LocalRegistry? _registry;
    private RegistryClient? _client;
    private string _reference = string.Empty;
    private string _target = string.Empty;
    private int _iteration;

    [GlobalSetup]
    public void Setup()
    {
        string layout = BenchmarkImage.EnsureLayout(CacheDir);
        _registry = new LocalRegistry(Path.Combine(CacheDir, "registry"));
        _reference = $"{_registry.Host}/bench/image:1";
        BenchmarkImage.Run("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{BenchmarkImage.Tag}", $"docker://{_reference}");
        _client = new RegistryClient();
    }

    [IterationSetup]
    public void FreshTarget()
    {
        _target = Path.Combine(CacheDir, $"run-{_iteration++}");
        Directory.CreateDirectory(_target);
    }

    [IterationCleanup]
    public void RemoveTarget() => DirectoryTree.Remove(_target);

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        _registry?.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("unpack")]
    public void SkopeoCopyThenUmociUnpack()
    {
        string oci = Path.Combine(_target, "oci");
        BenchmarkImage.Run("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{_reference}", $"oci:{oci}:{BenchmarkImage.Tag}");
        BenchmarkImage.Run("umoci", "unpack", "--image", $"{oci}:{BenchmarkImage.Tag}", Path.Combine(_target, "bundle"));
    }

    [Benchmark]
    [BenchmarkCategory("unpack")]
    public Task<Image> Pull() => PullAsync(unpack: true);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("blobs")]
    public void SkopeoCopy() =>
        BenchmarkImage.Run("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{_reference}", $"oci:{Path.Combine(_target, "oci")}:{BenchmarkImage.Tag}");

    [Benchmark]
    [BenchmarkCategory("blobs")]
    public Task<Image> PullNoUnpack() => PullAsync(unpack: false);

    private async Task<Image> PullAsync(bool unpack)
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_target, "store") });
        return await _client!.PullAsync(store, _reference, new PullOptions { Unpack = unpack }, progress: null, CancellationToken.None);
    }
}
