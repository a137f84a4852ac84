using System.IO.Pipelines;

namespace Containers.Runtime;

/// <summary>
/// The outcome of <see cref="ContainerRuntime.RunAsync(Containers.Spec.ContainerSpec, ContainerRunOptions?, CancellationToken)"/> or a <c>CollectAsync</c>: how the process ended, what it
/// wrote, and whether the run was cut short (a timeout) or its output cut off (the output cap).
/// </summary>
/// <example>
/// <code>
/// var result = await runtime.RunAsync(spec, new ContainerRunOptions { Timeout = TimeSpan.FromSeconds(5) });
/// if (result.TimedOut) Console.WriteLine($"stopped after 5 s ({result.Exit}); it had written: {result.Stdout}");
/// </code>
/// </example>
public sealed record ContainerResult
{
    /// <summary>How the process ended.</summary>
    public required ContainerExit Exit { get; init; }

    /// <summary>The exit code when the process exited by itself, otherwise null.</summary>
    public int? ExitCode => Exit.ExitCode;

    /// <summary>The terminating signal's number when a signal killed the process, otherwise null.</summary>
    public int? Signal => Exit.Signal;

    /// <summary>Whether the container ran out of memory and the kernel killed a process of it (<see cref="ContainerExit.OomKilled"/>).</summary>
    public bool OomKilled => Exit.OomKilled;

    /// <summary>What was written to standard output (up to the output cap), decoded as UTF-8.</summary>
    public required string Stdout { get; init; }

    /// <summary>What was written to standard error (up to the output cap), decoded as UTF-8.</summary>
    public required string Stderr { get; init; }

    /// <summary>Whether the run's timeout expired and the runtime stopped the process (<see cref="ContainerRunOptions.Timeout"/>).</summary>
    public bool TimedOut { get; init; }

    /// <summary>Whether standard output went on past <see cref="ContainerRunOptions.MaxOutputBytes"/> and the rest was discarded.</summary>
    public bool StdoutTruncated { get; init; }

    /// <summary>Whether standard error went on past <see cref="ContainerRunOptions.MaxOutputBytes"/> and the rest was discarded.</summary>
    public bool StderrTruncated { get; init; }

    /// <summary>
    /// Reads both streams to the end, at once, and waits for the process: the body of the <c>CollectAsync</c>
    /// methods. Each stream keeps the default output cap (<see cref="ContainerRunOptions.MaxOutputBytes"/>'s
    /// default); what goes past it is read and discarded, so the writer never blocks, and the result says so.
    /// </summary>
    internal static async Task<ContainerResult> CollectAsync(
        PipeReader stdout, PipeReader stderr, Func<CancellationToken, Task<ContainerExit>> wait, CancellationToken cancellationToken)
    {
        var cap = ContainerRunOptions.Default.MaxOutputBytes;
        var output = OutputCollector.ReadToEndAsync(stdout, cap, cancellationToken);
        var errors = OutputCollector.ReadToEndAsync(stderr, cap, cancellationToken);
        var exit = await wait(cancellationToken).ConfigureAwait(false);
        var (outText, outTruncated) = await output.ConfigureAwait(false);
        var (errText, errTruncated) = await errors.ConfigureAwait(false);
        return new ContainerResult { Exit = exit, Stdout = outText, Stderr = errText, StdoutTruncated = outTruncated, StderrTruncated = errTruncated };
    }
}
