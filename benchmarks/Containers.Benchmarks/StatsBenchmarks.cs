using BenchmarkDotNet.Attributes;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Benchmarks;

/// <summary>
/// One stats snapshot of a running container (<see cref="Container.GetStatsAsync"/>: memory, CPU, tasks, block I/O
/// and, on v2, pressure) against reading its cgroup's files directly with <see cref="File.ReadAllText(string)"/>:
/// one file (the baseline, the memory usage), and every file the snapshot reads, each once. Polling N containers
/// once a second costs N times <see cref="GetStats"/> of CPU per second. Needs root.
/// </summary>
[MemoryDiagnoser]
public class StatsBenchmarks
{
    private ContainerRuntime _runtime = null!;
    private Container _container = null!;
    private string _oneFile = "";
    private string[] _sameFiles = [];
    private readonly string _stateDirectory = $"/dev/shm/containers-bench-stats-{Guid.NewGuid():N}";

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0)
        {
            throw new InvalidOperationException("StatsBenchmarks create a cgroup: run them as root");
        }

        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = _stateDirectory }).GetAwaiter().GetResult();
        var spec = ContainerSpec.For("/bin/sleep", "3600").WithMemoryLimit(64L << 20).WithPidsLimit(64).WithCpuLimit(0.5);
        _container = _runtime.CreateAsync(null, spec).GetAwaiter().GetResult();
        _container.StartAsync().GetAwaiter().GetResult();
        var paths = _container.State.Cgroup!;
        if (paths.TryGetValue("", out var v2))
        {
            _oneFile = Path.Combine(v2, "memory.current");
            _sameFiles = [.. new[] { "memory.current", "memory.peak", "memory.max", "memory.events", "cpu.stat", "pids.current", "pids.max", "io.stat", "cpu.pressure", "memory.pressure", "io.pressure" }
                .Select(f => Path.Combine(v2, f)).Where(File.Exists)];
        }
        else
        {
            _oneFile = Path.Combine(paths["memory"], "memory.usage_in_bytes");
            _sameFiles =
            [
                .. new[] { "memory.limit_in_bytes", "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.oom_control" }.Select(f => Path.Combine(paths["memory"], f)),
                .. new[] { "cpuacct.usage", "cpuacct.usage_user", "cpuacct.usage_sys" }.Select(f => Path.Combine(paths["cpuacct"], f)),
                Path.Combine(paths["cpu"], "cpu.stat"),
                .. new[] { "pids.current", "pids.max" }.Select(f => Path.Combine(paths["pids"], f)),
                .. new[] { "blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced" }.Select(f => Path.Combine(paths["blkio"], f)),
            ];
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_stateDirectory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public string ReadOneFile() => File.ReadAllText(_oneFile);

    [Benchmark]
    public int ReadSameFiles()
    {
        var length = 0;
        foreach (var file in _sameFiles)
        {
            length += File.ReadAllText(file).Length;
        }

        return length;
    }

    [Benchmark]
    public Task<ContainerStats> GetStats() => _container.GetStatsAsync();
}
