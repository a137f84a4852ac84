namespace Containers.Spec;

/// <summary>The process count limit (<c>linux.resources.pids</c>).</summary>
/// <param name="Limit">The most tasks the cgroup may hold (<c>limit</c>); -1 means unlimited.</param>
public sealed record LinuxPids(long Limit);
