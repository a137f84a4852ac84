using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// Process and stdio, the same for a container's first process and an exec: rlimits, stdio (pipes, /dev/null or
/// a pseudo-terminal), umask, groups and ids, the working directory and <c>no_new_privs</c>.
/// </summary>
internal static class ProcessStep
{
    private const int PrSetNoNewPrivs = 38;
    private const int PrSetKeepCaps = 8;
    private const uint DefaultUmask = 0x12; // 022

    public static void Apply(PlanContext context)
    {
        var plan = context.Plan;
        var process = context.Process;
        foreach (var limit in process.Rlimits)
        {
            plan.SetRlimit(RlimitNumber(limit.Type), limit.Soft, limit.Hard, $"setrlimit {limit.Type}");
        }

        AddStdio(context);
        plan.Umask(process.User.Umask ?? DefaultUmask);
        if (context.SetGroupsAllowed || process.User.AdditionalGids.Length > 0)
        {
            plan.SetGroups(process.User.AdditionalGids);
        }

        if (ChangesHostIds(context, process.User.Uid, process.User.Gid) || (context.Mapping is not null && ChangesHostIds(context, 0, 0)))
        {
            // A child that shares the host's memory (CLONE_VM) shares its dumpable flag too, and the kernel clears
            // that flag when a task's effective ids change: the whole host process would turn non-dumpable (its
            // /proc files root's, unwritable by an unprivileged host). Such a child gets its own address space.
            plan.ForkLike();
        }

        // The capabilities step runs after the ids change; keep the permitted set across it for a non-root user.
        plan.Prctl(PrSetKeepCaps, 1, stage: "prctl PR_SET_KEEPCAPS");
        plan.SetResGid(process.User.Gid);
        plan.SetResUid(process.User.Uid);
        plan.ChangeDirectory(process.Cwd);
        // An exec never runs with less than the container: no_new_privs if either asks for it.
        if (process.NoNewPrivileges || context.Spec.Process?.NoNewPrivileges == true)
        {
            plan.Prctl(PrSetNoNewPrivs, 1, stage: "prctl PR_SET_NO_NEW_PRIVS");
        }
    }

    /// <summary>Whether becoming <paramref name="uid"/>:<paramref name="gid"/> changes the host ids the child runs with.</summary>
    private static bool ChangesHostIds(PlanContext context, uint uid, uint gid)
    {
        if (context.Mapping is { } mapping)
        {
            return HostId(mapping.Uids, uid) != context.Host.Uid || HostId(mapping.Gids, gid) != context.Host.Gid;
        }

        // A joined user namespace's maps are not known here; the host's own namespace maps every id to itself.
        return context.InUserNamespace || uid != context.Host.Uid || gid != context.Host.Gid;
    }

    private static long HostId(IReadOnlyList<LinuxIdMapping> map, uint id)
    {
        foreach (var range in map)
        {
            if (id >= range.ContainerId && id - range.ContainerId < range.Size)
            {
                return range.HostId + (long)(id - range.ContainerId);
            }
        }

        return -1;
    }

    private static void AddStdio(PlanContext context)
    {
        var plan = context.Plan;
        var fds = context.Fds;
        if (context.Terminal)
        {
            fds.Add(new FdSource(FdKind.TerminalSocket));
            plan.OpenPty("/dev/ptmx", plan.ImportFd());
            plan.SetSid();
            plan.SetControllingTerminal();
            return;
        }

        // A session of its own, always: a process that kept the caller's controlling terminal could type into it
        // (TIOCSTI) or take its signals.
        plan.SetSid();
        switch (context.Settings.Stdio)
        {
            case ContainerStdio.Pipes:
                fds.Add(new FdSource(FdKind.Stdin));
                plan.Dup2(plan.ImportFd(), 0, "dup2 stdin");
                fds.Add(new FdSource(FdKind.Stdout));
                plan.Dup2(plan.ImportFd(), 1, "dup2 stdout");
                fds.Add(new FdSource(FdKind.Stderr));
                plan.Dup2(plan.ImportFd(), 2, "dup2 stderr");
                break;
            case ContainerStdio.Null:
                fds.Add(new FdSource(FdKind.DevNull));
                var devNull = plan.ImportFd();
                plan.Dup2(devNull, 0, "dup2 /dev/null to stdin");
                plan.Dup2(devNull, 1, "dup2 /dev/null to stdout");
                plan.Dup2(devNull, 2, "dup2 /dev/null to stderr");
                break;
        }
    }

    private static int RlimitNumber(string type) => type switch
    {
        "RLIMIT_CPU" => 0,
        "RLIMIT_FSIZE" => 1,
        "RLIMIT_DATA" => 2,
        "RLIMIT_STACK" => 3,
        "RLIMIT_CORE" => 4,
        "RLIMIT_RSS" => 5,
        "RLIMIT_NPROC" => 6,
        "RLIMIT_NOFILE" => 7,
        "RLIMIT_MEMLOCK" => 8,
        "RLIMIT_AS" => 9,
        "RLIMIT_LOCKS" => 10,
        "RLIMIT_SIGPENDING" => 11,
        "RLIMIT_MSGQUEUE" => 12,
        "RLIMIT_NICE" => 13,
        "RLIMIT_RTPRIO" => 14,
        "RLIMIT_RTTIME" => 15,
        _ => throw new InvalidSpecException([new SpecError("process.rlimits", $"unknown rlimit type '{type}'")]),
    };
}
