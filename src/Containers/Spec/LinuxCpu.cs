namespace Containers.Spec;

/// <summary>CPU settings (<c>linux.resources.cpu</c>).</summary>
public sealed record LinuxCpu
{
    /// <summary>The relative weight against sibling cgroups (<c>shares</c>; cgroup v1 <c>cpu.shares</c>, 1024 is normal).</summary>
    public ulong? Shares { get; init; }

    /// <summary>The CPU time in microseconds the cgroup may use per <see cref="Period"/> (<c>quota</c>); -1 means unlimited.</summary>
    public long? Quota { get; init; }

    /// <summary>CPU time in microseconds the cgroup may accumulate beyond <see cref="Quota"/> (<c>burst</c>).</summary>
    public ulong? Burst { get; init; }

    /// <summary>The length of a quota period in microseconds (<c>period</c>), typically 100000.</summary>
    public ulong? Period { get; init; }

    /// <summary>Realtime CPU time in microseconds per <see cref="RealtimePeriod"/> (<c>realtimeRuntime</c>).</summary>
    public long? RealtimeRuntime { get; init; }

    /// <summary>The realtime period in microseconds (<c>realtimePeriod</c>).</summary>
    public ulong? RealtimePeriod { get; init; }

    /// <summary>The CPUs the container may run on, as a cpuset list such as <c>0-1,3</c> (<c>cpus</c>).</summary>
    public string? Cpus { get; init; }

    /// <summary>The memory nodes the container may allocate from, as a cpuset list (<c>mems</c>).</summary>
    public string? Mems { get; init; }

    /// <summary>1 gives the cgroup the minimum weight (<c>SCHED_IDLE</c>), 0 the normal behaviour (<c>idle</c>).</summary>
    public long? Idle { get; init; }
}
