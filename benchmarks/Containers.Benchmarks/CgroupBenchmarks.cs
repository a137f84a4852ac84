using BenchmarkDotNet.Attributes;
using Containers.Cgroups;
using Containers.Linux;
using Containers.Spec;

namespace Containers.Benchmarks;

/// <summary>
/// What a container's cgroup costs the caller's thread per start, without the start: making one with the
/// benchmarks' limits (memory, pids, CPU) and removing it again (<see cref="CreateAndDelete"/>, the baseline: what
/// every start with limits paid before the pool), against taking one the <see cref="CgroupPool"/> made ahead,
/// writing the limits, and handing it back for removal on the pool's thread (<see cref="TakeFromPool"/>). The
/// pool's own thread (making and removing) runs meanwhile, as it does beside real starts. Each iteration is
/// <see cref="Takes"/> operations, and the pool is full at its start: starts come far slower than the pool refills
/// (a start is milliseconds), so a take never waits for the pool in real use. Needs root.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Takes, unrollFactor: 1)]
public class CgroupBenchmarks
{
    private const int Takes = 16;

    private static readonly LinuxResources Limits = ContainerSpec.For("/bin/true")
        .WithMemoryLimit(256L << 20).WithPidsLimit(64).WithCpuLimit(1).Linux!.Resources!;

    private ICgroupDriver _driver = null!;
    private CgroupPool _pool = null!;
    private ICgroup? _released;
    private int _sequence;

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0)
        {
            throw new InvalidOperationException("CgroupBenchmarks create cgroups: run them as root");
        }

        _driver = CgroupDriver.Detect(null, $"/dev/shm/containers-bench-cgroups-{Guid.NewGuid():N}");
        _driver.Validate(Limits);
        _pool = new CgroupPool(_driver, Takes, e => throw e);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_released is { } released)
        {
            released.DeleteAsync(CancellationToken.None).GetAwaiter().GetResult();
            released.Dispose();
        }

        _pool.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _driver.RemoveEmptyParent();
    }

    [IterationSetup(Target = nameof(TakeFromPool))]
    public void WaitForFullPool()
    {
        while (_pool.Count < Takes)
        {
            Thread.Sleep(1);
        }
    }

    [Benchmark(Baseline = true)]
    public async Task CreateAndDelete()
    {
        using var cgroup = _driver.Create($"bench-{Interlocked.Increment(ref _sequence)}", Limits);
        await cgroup.DeleteAsync(CancellationToken.None);
    }

    [Benchmark]
    public async Task TakeFromPool()
    {
        var cgroup = _pool.TryTake(Limits) ?? throw new InvalidOperationException("the pool was empty");
        _pool.Release(cgroup);
        await Task.CompletedTask;
    }

    /// <summary>
    /// What the pool's thread spends on each cgroup a container released (v1): its limits lifted and counters checked,
    /// renamed where it reads as new, made again where it cannot (memory, cpuacct, and cpu after a quota), and its
    /// files opened ahead. Each call recycles the cgroup the last one made, with the benchmarks' limits written, as a
    /// start writes them.
    /// </summary>
    [Benchmark]
    public void Recycle()
    {
        var released = _released ??= _driver.Create($"bench-{Interlocked.Increment(ref _sequence)}", Limits);
        released.Update(Limits);
        _released = _driver.Recycle(released, $"bench-{Interlocked.Increment(ref _sequence)}")
            ?? throw new InvalidOperationException("only cgroup v1 recycles a released cgroup");
        _released.OpenAhead();
        released.Dispose();
    }
}
