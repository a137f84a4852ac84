namespace Containers.Linux;

/// <summary>
/// Whether this process takes the exit status of children it did not wait for itself. The .NET runtime's SIGCHLD
/// handler reaps every child (waitpid(-1)) when the process is pid 1 of its pid namespace, and the kernel reaps
/// them itself while SIGCHLD is ignored (SIG_IGN or SA_NOCLDWAIT). A container's process is such a child once it
/// has exec'd (execve resets its exit signal to SIGCHLD), so there its status must come another way: containers-init
/// stays as its keeper and reports it over a pipe (<see cref="InitRole.Keeper"/>).
/// </summary>
/// <remarks>
/// Not visible from here: a process started with SIGCHLD ignored whose disposition the .NET runtime has since
/// replaced with its own handler (which then reaps every child too). Such a host should request an init
/// (<c>ContainerCreateOptions.Init</c>), which reports through the same pipe.
/// </remarks>
internal static class HostReaping
{
    private const int SIGCHLD = 17;
    private const ulong SIG_IGN = 1;
    private const ulong SA_NOCLDWAIT = 2;

    /// <summary>True when a child's exit status may be taken before a pidfd wait sees it.</summary>
    public static bool ReapsEveryChild()
    {
        if (Environment.ProcessId == 1)
        {
            return true;
        }

        var r = Shim.SignalDisposition(SIGCHLD, out var handler, out var flags);
        if (r < 0)
        {
            throw new ContainersException($"reading the SIGCHLD disposition failed: {Errno.Name(-r)}");
        }

        return handler == SIG_IGN || (flags & SA_NOCLDWAIT) != 0;
    }
}
