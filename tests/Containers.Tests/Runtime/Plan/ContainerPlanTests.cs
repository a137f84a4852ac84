using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;
using Containers.Tests.Linux;

namespace Containers.Tests.Runtime.Plan;

public sealed class ContainerPlanTests
{
    private static readonly ContainerCreateOptions Pipes = ContainerCreateOptions.Default;

    private static FakeHost Host() => FakeHost.Debian().WithFile("/usr/bin/env").WithFile("/proc/42/root/usr/bin/true").WithFile("/proc/42/root/usr/bin/env");

    [Fact]
    public void The_default_spec_compiles_to_root_then_mounts_then_pivot_root_then_the_process_and_exec_last()
    {
        var plan = PlanDecoder.Decode(ContainerPlan.Compile(ContainerSpec.For("/bin/true"), Pipes, "/run/containers-net", Host()).Plan);
        var codes = plan.Ops.Select(o => o.Code).ToList();

        Assert.Equal(PlanOpCode.MakePrivate, codes[codes.IndexOf(PlanOpCode.LoopbackUp) + 2]);
        Assert.True(codes.IndexOf(PlanOpCode.Root) < codes.IndexOf(PlanOpCode.PivotRoot));
        Assert.True(plan.Ops.ToList().FindLastIndex(o => o.Code == PlanOpCode.Mount) < codes.IndexOf(PlanOpCode.PivotRoot));
        Assert.True(codes.IndexOf(PlanOpCode.PivotRoot) < codes.IndexOf(PlanOpCode.SetResUid));
        Assert.Equal([PlanOpCode.CloseRange, PlanOpCode.WaitFd, PlanOpCode.Exec], codes[^3..]);
    }

    [Fact]
    public void With_the_pool_on_a_root_start_joins_a_pooled_network_namespace_and_compiles_the_plain_variant_only_when_asked()
    {
        var pooled = ContainerPlan.Compile(ContainerSpec.For("/bin/true"), Pipes, "/run/containers-net", Host(), pooledNetwork: true);

        Assert.True(pooled.UsesPooledNetwork);
        Assert.False(pooled.WithoutPooledNetworkCompiled);
        var plan = pooled.WithoutPooledNetwork;
        Assert.True(pooled.WithoutPooledNetworkCompiled);
        Assert.False(plan.UsesPooledNetwork);
        var (own, joined) = (PlanDecoder.Decode(plan.Plan), PlanDecoder.Decode(pooled.Plan));
        Assert.Equal(own.CloneFlags & ~CloneFlags.NewNet, joined.CloneFlags);
        // The same ops but loopback (the pooled namespace has it up) and the join; the slots after it move by one.
        Assert.Equal(own.Ops.Select(o => o.Code).Where(c => c != PlanOpCode.LoopbackUp), joined.Ops.Select(o => o.Code).Where(c => c != PlanOpCode.SetNs));
        Assert.Equal("SetNs slot3 NewNet", joined.Lines.Single(l => l.StartsWith("SetNs ", StringComparison.Ordinal)));
        Assert.Equal([FdKind.PooledNetwork, .. plan.Fds.Select(f => f.Kind)], pooled.Fds.Select(f => f.Kind));

        Assert.False(ContainerPlan.Compile(ContainerSpec.For("/bin/true"), Pipes, "/run/containers-net", Host()).UsesPooledNetwork);
        var noNetwork = ContainerPlan.Compile(ContainerSpec.For("/bin/true").WithoutNamespace(NamespaceType.Network), Pipes, "/run/containers-net", Host(), pooledNetwork: true);
        Assert.False(noNetwork.UsesPooledNetwork);
        Assert.Throws<InvalidOperationException>(() => noNetwork.WithoutPooledNetwork);
    }

    [Fact]
    public void An_exec_gets_the_same_process_ops_as_a_first_process_rlimits_included()
    {
        var spec = ContainerSpec.For("/usr/bin/env").WithRlimit("RLIMIT_NOFILE", 32, 32).WithUser(7, 8).WithWorkingDirectory("/usr");

        var create = PlanDecoder.Decode(ContainerPlan.Compile(spec, Pipes, "/run/containers-net", Host()).Plan).Lines;
        var exec = PlanDecoder.Decode(ContainerPlan.CompileExec(spec, spec.Process!, ContainerStdio.Pipes, 42, Host()).Plan).Lines;

        // From the process step on, but for the start wait; fd slots differ (an exec imports the pidfd first).
        static IEnumerable<string> ProcessTail(IReadOnlyList<string> lines) =>
            lines.SkipWhile(l => !l.StartsWith("SetRlimit", StringComparison.Ordinal))
                .Where(l => !l.StartsWith("WaitFd", StringComparison.Ordinal))
                .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "slot[0-9]+", "slot#"));
        Assert.Contains("SetRlimit 7 32 32", exec);
        Assert.Equal(ProcessTail(create), ProcessTail(exec));
    }

    [Fact]
    public void An_exec_looks_its_program_up_in_the_running_containers_root()
    {
        var spec = ContainerSpec.For("/bin/true");

        var error = Assert.Throws<ExecutableNotFoundException>(
            () => ContainerPlan.CompileExec(spec, spec.Process! with { Args = ["/usr/bin/not-here"] }, ContainerStdio.Pipes, 42, Host()));
        var plan = PlanDecoder.Decode(ContainerPlan.CompileExec(spec, spec.Process! with { Args = ["true"] }, ContainerStdio.Pipes, 42, Host()).Plan);

        Assert.Equal("/usr/bin/not-here", error.Executable);
        Assert.StartsWith("Exec /usr/bin/true ", plan.Lines[^1], StringComparison.Ordinal);
        Assert.Equal(["SetNs slot3 NewNs|NewUts|NewIpc|NewPid|NewNet", "Fork"], plan.Lines.Take(2));
    }

    [Fact]
    public void An_exec_into_a_container_whose_files_cannot_be_seen_leaves_the_lookup_to_the_child()
    {
        var spec = ContainerSpec.For("/bin/true");

        var plan = PlanDecoder.Decode(ContainerPlan.CompileExec(spec, spec.Process! with { Args = ["tool"] }, ContainerStdio.Pipes, 99, Host()).Plan);

        Assert.Equal($"Exec tool [tool] [PATH={ContainerSpec.DefaultPath}] {ContainerSpec.DefaultPath} [ViaInit]", plan.Lines[^1]);
    }
}
