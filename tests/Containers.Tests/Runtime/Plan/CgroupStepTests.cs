using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class CgroupStepTests
{
    private static PlanContext Context(ContainerSpec spec, bool waitsForStart, CgroupPlacement cgroup = CgroupPlacement.None, int? containerPid = null) =>
        new(spec, spec.Process!, new FakeHost().WithFile("/srv/rootfs/bin/true"), new PlanSettings(ContainerStdio.Pipes, Init: false, waitsForStart, StepRunner.RootMountPoint, ContainerPid: containerPid, Cgroup: cgroup))
        {
            Files = new ContainerFiles("/srv/rootfs", [], []),
        };

    private static ContainerSpec WithOomScoreAdj(int adj)
    {
        var spec = ContainerSpec.For("/bin/true");
        return spec with { Process = spec.Process! with { OomScoreAdj = adj } };
    }

    [Fact]
    public void A_created_container_is_placed_during_its_wait_for_start_so_the_step_adds_no_wait()
    {
        var context = Context(WithOomScoreAdj(500), waitsForStart: true, CgroupPlacement.JoinWhileWaiting);
        var plan = StepRunner.Run(context, CgroupStep.Apply);

        Assert.Empty(plan.Lines);
        Assert.False(context.WaitsToBePlaced);
    }

    [Fact]
    public void A_run_that_starts_at_once_waits_last_before_exec_to_join_its_v1_cgroups_so_the_join_overlaps_its_setup()
    {
        var context = Context(ContainerSpec.For("/bin/true"), waitsForStart: false, CgroupPlacement.JoinWhileWaiting);

        Assert.Empty(StepRunner.Run(context, CgroupStep.Apply).Lines);
        Assert.True(context.WaitsToBePlaced);
        var plan = StepRunner.Run(context, ExecStep.Apply);
        Assert.Equal(["CloseRange []", "WaitFd slot0"], plan.Lines.SkipLast(1));
        Assert.StartsWith("Exec /bin/true ", plan.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void An_exec_and_a_run_joining_a_pid_namespace_fork_so_they_wait_first_to_be_placed_before_the_fork()
    {
        var exec = Context(ContainerSpec.For("/bin/true"), waitsForStart: false, CgroupPlacement.JoinWhileWaiting, containerPid: 42);
        var joining = ContainerSpec.For("/bin/true").WithNamespacePath(NamespaceType.Pid, "/proc/42/ns/pid");
        var run = Context(joining, waitsForStart: false, CgroupPlacement.JoinWhileWaiting);

        Assert.Equal(["WaitFd slot0"], StepRunner.Run(exec, CgroupStep.Apply).Lines);
        Assert.Equal(["WaitFd slot0"], StepRunner.Run(run, CgroupStep.Apply).Lines);
        Assert.True(exec.WaitsToBePlaced && run.WaitsToBePlaced);
        Assert.False(exec.PlacementWaitsForExec || run.PlacementWaitsForExec);
    }

    [Fact]
    public void A_run_that_starts_at_once_waits_before_exec_for_its_oom_score_adj_and_one_without_either_does_not_wait()
    {
        var withAdj = Context(WithOomScoreAdj(500), waitsForStart: false);
        var without = Context(ContainerSpec.For("/bin/true"), waitsForStart: false);

        Assert.Contains("WaitFd slot0", StepRunner.Run(withAdj, CgroupStep.Apply, ExecStep.Apply).Lines);
        Assert.True(withAdj.WaitsToBePlaced);
        Assert.DoesNotContain("WaitFd slot0", StepRunner.Run(without, CgroupStep.Apply, ExecStep.Apply).Lines);
        Assert.False(without.WaitsToBePlaced);
    }

    [Fact]
    public void A_v2_start_is_cloned_into_its_cgroup_and_never_waits_to_be_placed()
    {
        var context = Context(ContainerSpec.For("/bin/true"), waitsForStart: false, CgroupPlacement.CloneInto);
        var plan = StepRunner.Run(context, CgroupStep.Apply);

        // The cgroup's directory is an imported fd the clone uses (plan header), not an op.
        Assert.Empty(plan.Lines);
        Assert.Equal([new FdSource(FdKind.Cgroup)], context.Fds);
        Assert.False(context.WaitsToBePlaced);
    }
}
