namespace Containers.Runtime.Plan;

/// <summary>
/// The container's cgroup. On v2 the child is cloned into it (the cgroup's directory fd in the header), so not
/// one instruction runs outside its limits. On v1 the launcher writes the child's pid to each hierarchy while the
/// child waits: a container's first process waits anyway for its start byte (the created state), so that costs no
/// extra round trip; a run that starts at once has no such wait and gets one, last before exec
/// (<see cref="ExecStep"/>), so that the launcher's writes (about 40 µs per v1 hierarchy, most of what limits cost a
/// v1 start) overlap the child's own setup instead of delaying it. No instruction of the program runs outside the
/// cgroup; what the setup allocates before the join stays charged to the launcher's cgroups. An exec, or a child
/// that joins a pid namespace, forks on the way, so it waits first, before the fork.
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
            case CgroupPlacement.JoinWhileWaiting when !context.Settings.WaitsForStart:
                WaitToBePlaced(context);
                return;
        }

        // The launcher also writes a first process's oom_score_adj; a start that does not wait for a start byte
        // waits for that before exec.
        if (!context.Settings.WaitsForStart && context.Settings.ContainerPid is null && context.Process.OomScoreAdj is not null)
        {
            WaitToBePlaced(context);
        }
    }

    private static void WaitToBePlaced(PlanContext context)
    {
        context.WaitsToBePlaced = true;

        // A child that joins a pid namespace forks (the join applies to children only), and the launcher knows only
        // the child it cloned: that one is placed first, and its fork inherits the cgroups.
        var forks = context.Settings.ContainerPid is not null
            || context.Spec.Linux?.Namespaces.Any(n => n.Type == Spec.NamespaceType.Pid && n.Path is not null) == true;
        if (forks)
        {
            context.Plan.WaitForParent("wait to be placed in the container's cgroups");
        }
        else
        {
            context.PlacementWaitsForExec = true;
        }
    }
}
