namespace Containers.Linux;

/// <summary>How a child ended: an exit code, or the signal that terminated it.</summary>
/// <param name="ExitCode">The exit code when the process exited, otherwise null.</param>
/// <param name="Signal">The terminating signal when it was killed, otherwise null.</param>
/// <param name="CoreDumped">Whether the kernel dumped core on the terminating signal.</param>
internal readonly record struct ChildExitStatus(int? ExitCode, int? Signal, bool CoreDumped)
{
    /// <summary>The shell's view: the exit code, or 128 + signal.</summary>
    public int ShellExitCode => ExitCode ?? (128 + (Signal ?? 0));

    /// <inheritdoc />
    public override string ToString() => ExitCode is { } code ? $"exited with {code}" : $"killed by signal {Signal}";
}
