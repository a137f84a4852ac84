using BenchmarkDotNet.Attributes;
using Containers.Linux;

namespace Containers.Benchmarks;

/// <summary>
/// A child that gets a network namespace with loopback up and runs /bin/true: made by its own clone
/// (<c>CLONE_NEWNET</c>, then lo up), joined from a <see cref="NetworkNamespacePool"/> (<c>setns</c> on a namespace
/// made ahead), or none at all. Starts run back to back, so the pool's refill competes with them for the same CPUs
/// and its cost shows. Needs root.
/// </summary>
[MemoryDiagnoser]
public class NetworkNamespaceBenchmarks
{
    private static readonly string[] Env = ["PATH=/usr/bin:/bin"];

    private readonly Plan _newNetwork = new PlanBuilder(CloneFlags.NewNet).LoopbackUp().CloseOtherFds([]).Exec("/bin/true", ["true"], Env).Build();
    private readonly Plan _noNetwork = new PlanBuilder().CloseOtherFds([]).Exec("/bin/true", ["true"], Env).Build();
    private Plan _pooledNetwork = null!;
    private NetworkNamespacePool _pool = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0)
        {
            throw new InvalidOperationException("NetworkNamespaceBenchmarks create network namespaces: run them as root");
        }

        var plan = new PlanBuilder();
        var netns = plan.ImportFd();
        _pooledNetwork = plan.SetNs(netns, CloneFlags.NewNet).CloseOtherFds([]).Exec("/bin/true", ["true"], Env).Build();
        _pool = new NetworkNamespacePool(capacity: 4);
        _pool.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public Task NewNetworkNamespace() => Run(_newNetwork, []);

    [Benchmark]
    public async Task PooledNetworkNamespace()
    {
        using var netns = await _pool.TakeAsync();
        await Run(_pooledNetwork, [netns]);
    }

    [Benchmark]
    public Task NoNetworkNamespace() => Run(_noNetwork, []);

    private static async Task Run(Plan plan, IReadOnlyList<Microsoft.Win32.SafeHandles.SafeFileHandle> fds)
    {
        await using var child = ChildProcess.Launch(plan, fds);
        var status = await child.WaitAsync(CancellationToken.None);
        if (status.ExitCode != 0)
        {
            await child.WaitForExecAsync(CancellationToken.None);
            throw new InvalidOperationException($"the child {status}");
        }
    }
}
