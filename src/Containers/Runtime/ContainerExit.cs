namespace Containers.Runtime;

/// <summary>How a container's process ended: an exit code, or the signal that terminated it.</summary>
/// <param name="ExitCode">The exit code when the process exited by itself, otherwise null.</param>
/// <param name="Signal">The terminating signal's number when a signal killed the process, otherwise null.</param>
public readonly record struct ContainerExit(int? ExitCode, int? Signal)
{
    /// <summary>The status a shell reports: the exit code, or 128 + the signal number.</summary>
    public int ShellStatus => ExitCode ?? (128 + (Signal ?? 0));

    /// <summary>
    /// Whether the kernel's OOM killer killed a process of the container (its memory limit was reached). Known for
    /// containers with a cgroup (<c>linux.resources</c> set) that this runtime created; false otherwise.
    /// </summary>
    public bool OomKilled { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        (Signal is { } signal ? $"killed by signal {signal}" : $"exit code {ExitCode}") + (OomKilled ? " (out of memory: the OOM killer killed a process)" : "");
}
