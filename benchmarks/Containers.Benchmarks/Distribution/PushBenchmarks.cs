using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Containers.Distribution;
using Containers.Images;
using Containers.Linux;

namespace Containers.Benchmarks.Distribution;

/// <summary>
/// Pushing the ~200 MB, five-layer gzip image of <see cref="BenchmarkImage"/> to a local <c>docker-registry</c> whose
/// storage is emptied before every iteration (so every blob is uploaded), against <c>skopeo copy oci:DIR
/// docker://…</c> of the same image in the same run.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class PushBenchmarks
{
    private const string CacheDir = "/dev/shm/containers-bench-pull";

    private LocalRegistry? _registry;
    private RegistryClient? _client;
    private ImageStore? _store;
    private string _layout = string.Empty;
    private string _storeRoot = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _layout = BenchmarkImage.EnsureLayout(CacheDir);
        _registry = new LocalRegistry(Path.Combine(CacheDir, "push-registry"));
        _storeRoot = Path.Combine(CacheDir, "push-store");
        DirectoryTree.Remove(_storeRoot);
        _store = ImageStore.OpenAsync(new ImageStoreOptions { Root = _storeRoot }).GetAwaiter().GetResult();
        _store.ImportAsync(_layout, "bench:1", progress: null, CancellationToken.None).GetAwaiter().GetResult();
        _client = new RegistryClient();
    }

    [IterationSetup]
    public void EmptyRegistry() => _registry!.Reset();

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        _registry?.Dispose();
        DirectoryTree.Remove(_storeRoot);
    }

    [Benchmark(Baseline = true)]
    public void SkopeoCopy() =>
        BenchmarkImage.Run("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{_layout}:{BenchmarkImage.Tag}", $"docker://{_registry!.Host}/bench/image:1");

    [Benchmark]
    public Task<Digest> Push() => _client!.PushAsync(_store!, "bench:1", $"{_registry!.Host}/bench/image:1", progress: null, CancellationToken.None);
}
