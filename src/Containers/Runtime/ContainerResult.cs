namespace Containers.Runtime;

/// <summary>The outcome of <see cref="ContainerRuntime.RunAsync"/>: how the process ended and all it wrote.</summary>
public sealed record ContainerResult
{
    /// <summary>How the process ended.</summary>
    public required ContainerExit Exit { get; init; }

    /// <summary>The exit code when the process exited by itself, otherwise null.</summary>
    public int? ExitCode => Exit.ExitCode;

    /// <summary>The terminating signal's number when a signal killed the process, otherwise null.</summary>
    public int? Signal => Exit.Signal;

    /// <summary>Everything written to standard output, decoded as UTF-8.</summary>
    public required string Stdout { get; init; }

    /// <summary>Everything written to standard error, decoded as UTF-8.</summary>
    public required string Stderr { get; init; }
}
