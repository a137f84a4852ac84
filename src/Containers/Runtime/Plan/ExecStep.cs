using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// The last step: looks the program up in the container's files (so a missing or non-executable program is a
/// typed error before anything starts), leaves only fds 0-2 open across exec, waits for the start (a container's
/// first process), and execs the program through containers-init, which stays as its init when one is asked for,
/// and as its keeper when this host would take the program's exit status (<see cref="IHostView.ReapsEveryChild"/>).
/// The one place a plan's process is started.
/// </summary>
internal static class ExecStep
{
    /// <summary>
    /// What an init or keeper passes on to the program: every signal but those it cannot receive (SIGKILL, SIGSTOP), the one
    /// it acts on itself (SIGCHLD) and those only its own terminal I/O would raise (SIGTTIN, SIGTTOU).
    /// </summary>
    private static readonly int[] InitForwardedSignals =
        [.. Enumerable.Range(1, 64).Where(s => s is not (9 or 19 or 17 or 21 or 22))];

    public static void Apply(PlanContext context)
    {
        var plan = context.Plan;
        var process = context.Process;
        if (context.Settings.RootOnly)
        {
            plan.CloseOtherFds([]);
            plan.WaitForParent("hold the root", announce: true);
            return;
        }

        var executable = ExecutableLookup.Resolve(context);
        plan.CloseOtherFds([]);
        if (context.Settings.WaitsForStart)
        {
            plan.WaitForParent("wait for start", announce: true);
        }
        else if (context.PlacementWaitsForExec)
        {
            // The launcher joins the child to its v1 cgroups (and sets oom_score_adj) while the setup above runs.
            plan.WaitForParent("wait to be placed in the container's cgroups");
        }

        // Last: an init stays in the state every earlier op set up (root, ids, rlimits).
        var role = context.Settings.Init ? InitRole.Init : context.Host.ReapsEveryChild ? InitRole.Keeper : InitRole.ExecOnly;
        var stays = role != InitRole.ExecOnly;
        plan.ExecThroughInit(executable, process.Args, process.Env, ExecutableLookup.EnvPath(process), role,
            stays ? InitForwardedSignals : null, foreground: stays && context.Terminal);
    }
}
