namespace Containers.Runtime;

/// <summary>The kernel's OOM killer killed a process of a container (<see cref="Container.WatchOomKillsAsync"/>).</summary>
/// <param name="Time">When the kill was seen.</param>
/// <param name="Count">
/// The container's OOM kills so far, as the kernel counts them (<c>oom_kill</c>); kills close together may arrive as
/// one event whose count rose by more than one.
/// </param>
public sealed record ContainerOomKill(DateTimeOffset Time, long Count);
