using BenchmarkDotNet.Attributes;
using Containers.Linux;

namespace Containers.Benchmarks;

/// <summary>
/// What containers-init adds to a start: the same clone and <c>/bin/true</c> exec'd directly by the plan's process
/// (the baseline), through containers-init exec'ing it in place (what every container does), and through
/// containers-init staying as the program's keeper (an init, or a host that reaps every child). No namespaces, so
/// the differences are the extra exec and, for the keeper, a fork, a wait and the status pipe.
/// </summary>
[MemoryDiagnoser]
public class ExecBenchmarks
{
    private static readonly string[] Argv = ["true"];
    private static readonly string[] Env = ["PATH=/usr/bin:/bin"];

    private readonly Plan _direct = new PlanBuilder().CloseOtherFds([]).Exec("/bin/true", Argv, Env).Build();
    private readonly Plan _viaInit = new PlanBuilder().CloseOtherFds([]).ExecThroughInit("/bin/true", Argv, Env, null, InitRole.ExecOnly).Build();
    private readonly Plan _keeper = new PlanBuilder().CloseOtherFds([]).ExecThroughInit("/bin/true", Argv, Env, null, InitRole.Keeper).Build();

    [Benchmark(Baseline = true)]
    public Task Exec() => Run(_direct);

    [Benchmark]
    public Task ExecThroughInit() => Run(_viaInit);

    [Benchmark]
    public Task ExecThroughKeeper() => Run(_keeper);

    private static async Task Run(Plan plan)
    {
        await using var child = ChildProcess.Launch(plan);
        var status = await child.WaitAsync(CancellationToken.None);
        if (status.ExitCode != 0)
        {
            await child.WaitForExecAsync(CancellationToken.None);
            throw new InvalidOperationException($"/bin/true {status}");
        }
    }
}
