using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The container's cgroup, first of all the child's steps, so its setup and every process it forks are charged there.
/// On v2 the child is cloned into it (the cgroup's directory fd in the header), so not one instruction runs outside
/// its limits. On v1 (no <c>CLONE_INTO_CGROUP</c>) the child moves itself into each hierarchy by writing <c>0</c> to
/// its <c>tasks</c> file, which the launcher opened: the kernel takes its global threadgroup lock, whose write side
/// waits for an RCU grace period (5–20 ms on an idle host, 20–250 µs right after another), when a process is moved by
/// pid, but not when a thread moves itself (a few µs). An exec joins before it forks into the container's pid
/// namespace, so the fork is born in the cgroup. What the child allocates before exec still shares the launcher's
/// memory (a <c>CLONE_VM</c> child): that stays charged to the launcher's cgroups.
/// </summary>
internal static class CgroupStep
{
    public static void Apply(PlanContext context)
    {
        switch (context.Settings.Cgroup)
        {
            case CgroupPlacement.CloneInto:
                context.Fds.Add(new FdSource(FdKind.Cgroup));
                context.Plan.IntoCgroup(context.Plan.ImportFd());
                break;
            case CgroupPlacement.JoinsItself:
                foreach (var hierarchy in context.Settings.CgroupHierarchies ?? [])
                {
                    context.Fds.Add(new FdSource(FdKind.CgroupTasks, hierarchy));
                    context.Plan.JoinCgroup(context.Plan.ImportFd(), $"join the container's {hierarchy} cgroup");
                }

                // A cgroup namespace is rooted where its maker is when it is made: made at the clone, it would be
                // rooted at the launcher's cgroups, and the container would see its own as a path below them.
                if (context.Settings.ContainerPid is null && context.Linux.Namespaces.Any(n => n.Type == NamespaceType.Cgroup && n.Path is null))
                {
                    context.Plan.Unshare(CloneFlags.NewCgroup, "make the cgroup namespace, rooted at the container's cgroups");
                    context.CgroupNamespaceMade = true;
                }

                break;
        }

        // The launcher writes a first process's oom_score_adj (a lowered one needs its privileges); a start that does
        // not wait for a start byte waits for that before exec.
        if (!context.Settings.WaitsForStart && context.Settings.ContainerPid is null && context.Process.OomScoreAdj is not null)
        {
            WaitToBePlaced(context);
        }
    }

    private static void WaitToBePlaced(PlanContext context)
    {
        context.WaitsToBePlaced = true;

        // A child that joins a pid namespace forks (the join applies to children only), and the launcher knows only
        // the child it cloned: that one is placed first, and its fork inherits the score.
        var forks = context.Spec.Linux?.Namespaces.Any(n => n.Type == NamespaceType.Pid && n.Path is not null) == true;
        if (forks)
        {
            context.Plan.WaitForParent("wait for the launcher to set oom_score_adj");
        }
        else
        {
            context.PlacementWaitsForExec = true;
        }
    }
}
