namespace Containers.Runtime.Plan;

/// <summary>What the launcher supplies in one imported fd slot of a container's plan.</summary>
/// <param name="Kind">The kind of fd.</param>
/// <param name="Path">For <see cref="FdKind.Namespace"/>: the namespace file to open; for <see cref="FdKind.CgroupTasks"/>: the hierarchy.</param>
internal readonly record struct FdSource(FdKind Kind, string? Path = null);

/// <summary>The kinds of fds a container's plan imports.</summary>
internal enum FdKind
{
    /// <summary>The read end of the stdin pipe.</summary>
    Stdin,

    /// <summary>The write end of the stdout pipe.</summary>
    Stdout,

    /// <summary>The write end of the stderr pipe.</summary>
    Stderr,

    /// <summary><c>/dev/null</c>, for all three stdio fds.</summary>
    DevNull,

    /// <summary>The child's end of the socket the terminal's master comes back over.</summary>
    TerminalSocket,

    /// <summary>A namespace file to join (<c>/proc/PID/ns/*</c>).</summary>
    Namespace,

    /// <summary>The pidfd of a running container, whose namespaces an exec joins.</summary>
    ContainerPidFd,

    /// <summary>The container's cgroup v2 directory, for <c>CLONE_INTO_CGROUP</c>.</summary>
    Cgroup,

    /// <summary>The <c>tasks</c> file of the container's cgroup in one v1 hierarchy, open for writing, which the child joins itself.</summary>
    CgroupTasks,

    /// <summary>The container's own directory (an <c>O_PATH</c> fd), holding an overlay root's upper and work directories.</summary>
    ContainerDirectory,

    /// <summary>A network namespace made ahead of time (loopback up) by the runtime's pool, joined instead of a new one.</summary>
    PooledNetwork,

    /// <summary>The child's end of the socket a seccomp filter's listener fd comes back over.</summary>
    SeccompListenerSocket,
}
