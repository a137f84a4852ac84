using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class CgroupStepTests
{
    private static PlanContext Context(
        ContainerSpec spec, bool waitsForStart, CgroupPlacement cgroup = CgroupPlacement.None, int? containerPid = null, IReadOnlyList<string>? hierarchies = null) =>
        new(spec, spec.Process!, new FakeHost().WithFile("/srv/rootfs/bin/true"),
            new PlanSettings(ContainerStdio.Pipes, Init: false, waitsForStart, StepRunner.RootMountPoint, ContainerPid: containerPid, Cgroup: cgroup, CgroupHierarchies: hierarchies))
        {
            Files = new ContainerFiles("/srv/rootfs", [], []),
        };

    private static ContainerSpec WithOomScoreAdj(int adj)
    {
        var spec = ContainerSpec.For("/bin/true");
        return spec with { Process = spec.Process! with { OomScoreAdj = adj } };
    }

    [Fact]
    public void A_v1_start_joins_each_hierarchy_itself_first_through_a_tasks_file_the_launcher_opens_and_never_waits_for_it()
    {
        foreach (var waitsForStart in new[] { true, false })
        {
            var context = Context(ContainerSpec.For("/bin/true"), waitsForStart, CgroupPlacement.JoinsItself, hierarchies: ["memory", "pids", "cpu"]);
            var plan = StepRunner.Run(context, CgroupStep.Apply);

            Assert.Equal(["CgroupJoin slot3", "CgroupJoin slot4", "CgroupJoin slot5"], plan.Lines);
            Assert.Equal(
                [new FdSource(FdKind.CgroupTasks, "memory"), new FdSource(FdKind.CgroupTasks, "pids"), new FdSource(FdKind.CgroupTasks, "cpu")],
                context.Fds);
            Assert.False(context.WaitsToBePlaced);
        }
    }

    [Fact]
    public void A_v1_start_with_a_new_cgroup_namespace_makes_it_after_the_joins_and_not_at_the_clone()
    {
        var spec = ContainerSpec.For("/bin/true").WithNamespace(NamespaceType.Cgroup);
        var v1 = Context(spec, waitsForStart: false, CgroupPlacement.JoinsItself, hierarchies: ["memory"]);
        var v2 = Context(spec, waitsForStart: false, CgroupPlacement.CloneInto);

        var joined = StepRunner.Run(v1, CgroupStep.Apply, NamespacesStep.Apply);
        var cloned = StepRunner.Run(v2, CgroupStep.Apply, NamespacesStep.Apply);

        Assert.Equal(["CgroupJoin slot3", "Unshare NewCgroup"], joined.Lines.Take(2));
        Assert.False(joined.CloneFlags.HasFlag(CloneFlags.NewCgroup));
        Assert.True(v1.NewNamespaces.HasFlag(CloneFlags.NewCgroup));
        Assert.DoesNotContain(cloned.Lines, l => l.StartsWith("Unshare", StringComparison.Ordinal));
        Assert.True(cloned.CloneFlags.HasFlag(CloneFlags.NewCgroup));
    }

    [Fact]
    public void An_exec_joins_the_containers_v1_cgroups_before_it_joins_its_namespaces_and_forks()
    {
        var exec = Context(ContainerSpec.For("/bin/true"), waitsForStart: false, CgroupPlacement.JoinsItself, containerPid: 42, hierarchies: ["memory"]);

        var plan = StepRunner.Run(exec, CgroupStep.Apply, JoinStep.Apply);

        Assert.Equal(["CgroupJoin slot3", "SetNs slot4", "Fork"], plan.Lines.Select(l => string.Join(' ', l.Split(' ').Take(2))));
        Assert.False(exec.WaitsToBePlaced);
    }

    [Fact]
    public void A_run_joining_a_pid_namespace_forks_so_it_waits_first_for_its_oom_score_adj_before_the_fork()
    {
        var joining = WithOomScoreAdj(500).WithNamespacePath(NamespaceType.Pid, "/proc/42/ns/pid");
        var run = Context(joining, waitsForStart: false);

        Assert.Equal(["WaitFd slot0"], StepRunner.Run(run, CgroupStep.Apply).Lines);
        Assert.True(run.WaitsToBePlaced);
        Assert.False(run.PlacementWaitsForExec);
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
