namespace Containers.Runtime;

/// <summary>
/// One change in a container's life, as every runtime on a state directory records it
/// (<see cref="ContainerRuntime.WatchEventsAsync"/>): also those made by other processes.
/// </summary>
/// <param name="Time">When it happened.</param>
/// <param name="Id">The container's id.</param>
/// <param name="Action">What happened.</param>
/// <example>
/// <code>
/// await foreach (var e in runtime.WatchEventsAsync(cancellationToken: token))
///     Console.WriteLine($"{e.Time:O} {e.Action} {e.Id} {e.ExitCode}");
/// </code>
/// </example>
public sealed record ContainerEvent(DateTimeOffset Time, string Id, ContainerEventAction Action)
{
    /// <summary>The image the container was made from (its reference), when it was made from one.</summary>
    public string? Image { get; init; }

    /// <summary>
    /// For <see cref="ContainerEventAction.Die"/>: the exit code, when the process exited by itself. A die with
    /// neither this nor <see cref="Signal"/> has an unknown exit status (<see cref="ExitStatusKnown"/>).
    /// </summary>
    public int? ExitCode { get; init; }

    /// <summary>
    /// For <see cref="ContainerEventAction.Kill"/>: the signal sent; for <see cref="ContainerEventAction.Die"/>: the
    /// signal that ended the process, when one did.
    /// </summary>
    public int? Signal { get; init; }

    /// <summary>
    /// For <see cref="ContainerEventAction.Die"/>: whether <see cref="ExitCode"/> or <see cref="Signal"/> says how the
    /// process ended. False when its owner was killed (SIGKILL) before it could see the end: the runtime that then
    /// finds the container gone records its die, and the exit status was lost with the owner, the process's parent.
    /// </summary>
    public bool ExitStatusKnown => ExitCode is not null || Signal is not null;

    /// <summary>For <see cref="ContainerEventAction.Oom"/>: the container's OOM kills so far, as the kernel counts them.</summary>
    public long? OomKills { get; init; }
}
