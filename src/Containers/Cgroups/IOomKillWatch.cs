namespace Containers.Cgroups;

/// <summary>
/// Waits for the kernel's OOM killer to kill in one cgroup, as it happens: v2 by the change notification of
/// <c>memory.events</c>, v1 by an eventfd registered for <c>memory.oom_control</c>. Holds the fds it waits on.
/// </summary>
internal interface IOomKillWatch : IDisposable
{
    /// <summary>Completes with the cgroup's count of OOM kills once it exceeds <paramref name="seen"/>.</summary>
    /// <param name="seen">The count the caller has reported so far.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    Task<long> NextAsync(long seen, CancellationToken cancellationToken);
}
