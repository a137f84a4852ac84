namespace Containers.Runtime;

/// <summary>How a container's process ended: an exit code, or the signal that terminated it.</summary>
/// <param name="ExitCode">The exit code when the process exited by itself, otherwise null.</param>
/// <param name="Signal">The terminating signal's number when a signal killed the process, otherwise null.</param>
public readonly record struct ContainerExit(int? ExitCode, int? Signal)
{
    /// <summary>The status a shell reports: the exit code, or 128 + the signal number.</summary>
    public int ShellStatus => ExitCode ?? (128 + (Signal ?? 0));

    /// <inheritdoc />
    public override string ToString() => Signal is { } signal ? $"killed by signal {signal}" : $"exit code {ExitCode}";
}
