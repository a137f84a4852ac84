namespace Containers.Linux;

/// <summary>What containers-init does once it runs in place of the plan's process (plan.h, "containers-init").</summary>
internal enum InitRole
{
    /// <summary>It execs the program in place: the program keeps the plan's pid (pid 1 in a new pid namespace).</summary>
    ExecOnly,

    /// <summary>
    /// It forks the program and stays as its keeper: reaps every child, forwards signals, and reports the
    /// program's own exit status over the status pipe. For hosts that reap every child (pid 1, SIGCHLD ignored).
    /// </summary>
    Keeper,

    /// <summary>As <see cref="Keeper"/>, but reports and exits as an init does: the exit code, or 128 + the signal.</summary>
    Init,
}
