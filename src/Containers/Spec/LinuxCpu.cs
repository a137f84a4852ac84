namespace Containers.Spec;

/// <summary>CPU settings (<c>linux.resources.cpu</c>).</summary>
public sealed record LinuxCpu
{
    /// <summary>The relative weight against sibling cgroups (<c>shares</c>; cgroup v1 <c>cpu.shares</c>, 1024 is normal).</summary>
    public ulong? Shares { get; init; }

    /// <summary>The CPU time in microseconds the cgroup may use per <see cref="Period"/> (<c>quota</c>); -1 means unlimited.</summary>
    public long? Quota { get; init; }

    /// <summary>The length of a quota period in microseconds (<c>period</c>), typically 100000.</summary>
    public ulong? Period { get; init; }

    /// <summary>The CPUs the container may run on, as a cpuset list such as <c>0-1,3</c> (<c>cpus</c>).</summary>
    public string? Cpus { get; init; }

    /// <summary>The memory nodes the container may allocate from, as a cpuset list (<c>mems</c>).</summary>
    public string? Mems { get; init; }
}
