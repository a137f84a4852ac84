using Containers.Security.Seccomp;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// Loads the spec's seccomp filter (<c>linux.seccomp</c>), compiled once per profile, as the last op before the
/// exec step, for a container's first process and for every exec alike. The filter is loaded in the plan's child,
/// not by containers-init: the runtime's last ops (closing fds, the start wait, the exec) and containers-init run
/// under it, so no process of the container ever runs unfiltered, the keeper included (an unfiltered keeper could
/// be ptraced by its program to get out of the filter). The price is that a profile must allow the few calls those
/// make; the step refuses a profile that does not, before anything starts, naming the calls.
/// </summary>
internal static class SeccompStep
{
    /// <summary>What runs after the filter: the exec step's ops (close_range, the start wait, execveat of containers-init) and containers-init execing the program.</summary>
    internal static readonly string[] CallsAfterLoad =
        ["close_range", "read", "write", "rt_sigaction", "rt_sigprocmask", "fcntl", "execveat", "execve", "exit_group"];

    /// <summary>What containers-init calls when it stays as an init or keeper.</summary>
    internal static readonly string[] KeeperCalls =
        ["clone", "wait4", "rt_sigtimedwait", "kill", "prctl", "getpid", "getppid", "setpgid", "ioctl"];

    public static void Apply(PlanContext context)
    {
        if (context.Linux.Seccomp is not { } profile)
        {
            return;
        }

        var filter = SeccompCompiler.CompileForThisMachine(profile);
        var errors = new List<SpecError>();
        if (filter.Notifies)
        {
            errors.Add(new("linux.seccomp", "SCMP_ACT_NOTIFY is not supported by this runtime yet; use SCMP_ACT_ERRNO or SCMP_ACT_LOG"));
        }

        // Without no_new_privs the kernel only loads a filter for a caller with CAP_SYS_ADMIN in its effective set,
        // which the capabilities step (before this one) leaves only when the spec's effective set names it.
        var noNewPrivileges = context.Process.NoNewPrivileges || context.Spec.Process?.NoNewPrivileges == true;
        var sysAdmin = context.Spec.Process?.Capabilities?.Effective.Contains("CAP_SYS_ADMIN") == true;
        if (!noNewPrivileges && !sysAdmin)
        {
            errors.Add(new("process.noNewPrivileges", "is false, and a seccomp filter cannot be loaded without it unless CAP_SYS_ADMIN is effective: set noNewPrivileges, or remove linux.seccomp"));
        }

        var stays = context.Settings.Init || context.Host.ReapsEveryChild;
        var denied = CallsAfterLoad.Concat(stays ? KeeperCalls : []).Where(name => !SeccompProfileQuery.MayAllow(profile, name)).ToList();
        if (denied.Count > 0)
        {
            errors.Add(new("linux.seccomp", $"refuses {string.Join(", ", denied)}, which the runtime and containers-init call after the filter is loaded to start the program; allow them"));
        }

        if (errors.Count > 0)
        {
            throw new InvalidSpecException(errors);
        }

        context.Plan.Seccomp(filter.Bytes, filter.Flags, "seccomp");
    }
}
