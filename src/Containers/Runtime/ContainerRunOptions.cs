namespace Containers.Runtime;

/// <summary>
/// How <see cref="ContainerRuntime.RunAsync(Containers.Spec.ContainerSpec, ContainerRunOptions?, CancellationToken)"/>
/// and <see cref="PreparedContainer.RunAsync(ContainerRunOptions?, CancellationToken)"/> run a container: its input,
/// a timeout and an output cap. (Stdio and an init are the container's own settings: <see cref="ContainerCreateOptions"/>
/// through <see cref="ContainerRuntime.Prepare"/>.)
/// </summary>
/// <example>
/// <code>
/// var result = await runtime.RunAsync(ContainerSpec.For("python3", "/code/main.py"), new ContainerRunOptions
/// {
///     Stdin = "3 4\n"u8.ToArray(),
///     Timeout = TimeSpan.FromSeconds(2),
///     StopGracePeriod = TimeSpan.FromMilliseconds(200),
///     MaxOutputBytes = 64 &lt;&lt; 10,
/// });
/// </code>
/// </example>
public sealed record ContainerRunOptions
{
    /// <summary>The defaults: no input, no timeout, a 10 s grace period, 16 MiB of output per stream.</summary>
    public static ContainerRunOptions Default { get; } = new();

    /// <summary>The container's id; null for a random one.</summary>
    public string? Id { get; init; }

    /// <summary>What the process reads on standard input, followed by end-of-file. Empty (the default): end-of-file at once.</summary>
    public ReadOnlyMemory<byte> Stdin { get; init; }

    /// <summary>
    /// How long the process may run, counted from its start until it has exited and its output has been read; null
    /// (the default) for no limit. When it expires the runtime stops the process (SIGTERM, then SIGKILL after
    /// <see cref="StopGracePeriod"/>) and returns the result with <see cref="ContainerResult.TimedOut"/> set and the
    /// output written so far.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How long a timed-out process may take to exit after SIGTERM before it gets SIGKILL: 10 s by default.</summary>
    public TimeSpan StopGracePeriod { get; init; } = Container.DefaultStopGracePeriod;

    /// <summary>
    /// How many bytes of each output stream are kept: 16 MiB by default. Output beyond it is read and discarded (the
    /// process does not block) and the result says so (<see cref="ContainerResult.StdoutTruncated"/>,
    /// <see cref="ContainerResult.StderrTruncated"/>).
    /// </summary>
    public long MaxOutputBytes { get; init; } = 16 << 20;

    internal void Validate()
    {
        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), timeout, "a timeout must be positive (null for none)");
        }

        if (StopGracePeriod < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StopGracePeriod), StopGracePeriod, "a grace period cannot be negative");
        }

        if (MaxOutputBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxOutputBytes), MaxOutputBytes, "an output cap cannot be negative");
        }
    }
}
