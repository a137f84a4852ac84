namespace Containers.Spec;

/// <summary>
/// Cgroup limits for the container (<c>linux.resources</c>): the memory, cpu and pids controllers' common settings.
/// A null section or field leaves that limit as the cgroup's default.
/// </summary>
public sealed record LinuxResources
{
    /// <summary>Memory limits (<c>memory</c>).</summary>
    public LinuxMemory? Memory { get; init; }

    /// <summary>CPU shares, quota and placement (<c>cpu</c>).</summary>
    public LinuxCpu? Cpu { get; init; }

    /// <summary>The process count limit (<c>pids</c>).</summary>
    public LinuxPids? Pids { get; init; }
}
