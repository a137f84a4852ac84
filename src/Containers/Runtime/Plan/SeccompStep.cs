using Containers.Linux;
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
        var notify = context.Settings.SeccompNotify;
        if (filter.Notifies && notify is null)
        {
            errors.Add(new("linux.seccomp", context.Settings.ContainerPid is null
                ? "has SCMP_ACT_NOTIFY rules: give ContainerCreateOptions.SeccompNotify to answer them"
                : "has SCMP_ACT_NOTIFY rules, which an exec cannot answer: only a container's first process gets a notify handler"));
        }

        // The child sends the listener with sendmsg and closes its copy under the filter; a notified call among the
        // runtime's own would wait for a listener that has not arrived yet.
        var runtimeCalls = filter.Notifies ? [.. CallsAfterLoad, "sendmsg", "close"] : CallsAfterLoad;

        // Without no_new_privs the kernel only loads a filter for a caller with CAP_SYS_ADMIN in its effective set,
        // which the capabilities step (before this one) leaves only when the spec's effective set names it.
        var noNewPrivileges = context.Process.NoNewPrivileges || context.Spec.Process?.NoNewPrivileges == true;
        var sysAdmin = context.Spec.Process?.Capabilities?.Effective.Contains("CAP_SYS_ADMIN") == true;
        if (!noNewPrivileges && !sysAdmin)
        {
            errors.Add(new("process.noNewPrivileges", "is false, and a seccomp filter cannot be loaded without it unless CAP_SYS_ADMIN is effective: set noNewPrivileges, or remove linux.seccomp"));
        }

        var stays = context.Settings.Init || context.Host.ReapsEveryChild;
        var denied = runtimeCalls.Concat(stays ? KeeperCalls : []).Where(name => !SeccompProfileQuery.MayAllow(profile, name)).ToList();
        var notified = runtimeCalls.Where(name => SeccompProfileQuery.MayNotify(profile, name)).ToList();
        if (notified.Count > 0)
        {
            errors.Add(new("linux.seccomp", $"notifies {string.Join(", ", notified)}, which the runtime calls to start the program before the notifications are answered; use another action for them"));
        }

        if (denied.Count > 0)
        {
            errors.Add(new("linux.seccomp", $"refuses {string.Join(", ", denied)}, which the runtime and containers-init call after the filter is loaded to start the program; allow them"));
        }

        if (errors.Count > 0)
        {
            throw new InvalidSpecException(errors);
        }

        PlanFd? listener = null;
        if (filter.Notifies)
        {
            context.Fds.Add(new FdSource(FdKind.SeccompListenerSocket));
            listener = context.Plan.ImportFd();
        }

        context.Plan.Seccomp(filter.Bytes, filter.Flags, listener, "seccomp");
    }
}
