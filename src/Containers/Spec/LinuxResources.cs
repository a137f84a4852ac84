using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// Cgroup limits for the container (<c>linux.resources</c>). When set (even empty) the container gets a cgroup of its
/// own; limits the host cannot enforce are refused at create, never dropped (see docs/cgroups.md).
/// </summary>
public sealed record LinuxResources
{
    /// <summary>The device allowlist, rules applied in order (<c>devices</c>).</summary>
    public ImmutableArray<LinuxDeviceCgroup> Devices { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Memory limits (<c>memory</c>).</summary>
    public LinuxMemory? Memory { get; init; }

    /// <summary>CPU shares, quota and placement (<c>cpu</c>).</summary>
    public LinuxCpu? Cpu { get; init; }

    /// <summary>The process count limit (<c>pids</c>).</summary>
    public LinuxPids? Pids { get; init; }

    /// <summary>Block I/O weights and throttles (<c>blockIO</c>).</summary>
    [JsonPropertyName("blockIO")]
    public LinuxBlockIO? BlockIO { get; init; }

    /// <summary>Hugetlb limits per page size (<c>hugepageLimits</c>).</summary>
    public ImmutableArray<LinuxHugepageLimit> HugepageLimits { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Network class id and priorities (<c>network</c>).</summary>
    public LinuxNetwork? Network { get; init; }

    /// <summary>RDMA limits keyed by device name (<c>rdma</c>).</summary>
    public ImmutableSortedDictionary<string, LinuxRdma> Rdma { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, LinuxRdma>.Empty;

    /// <summary>cgroup v2 files and the values to write to them (<c>unified</c>), for example <c>memory.high</c>.</summary>
    public ImmutableSortedDictionary<string, string> Unified { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Whether both have the same limits, comparing lists by content and order.</summary>
    public bool Equals(LinuxResources? other) =>
        other is not null && Structural.Equal(Devices, other.Devices) && Memory == other.Memory && Cpu == other.Cpu
        && Pids == other.Pids && BlockIO == other.BlockIO && Structural.Equal(HugepageLimits, other.HugepageLimits)
        && Network == other.Network && Structural.Equal(Rdma, other.Rdma) && Structural.Equal(Unified, other.Unified);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Devices), Memory, Cpu, Pids, BlockIO, Structural.Hash(HugepageLimits), Network,
        HashCode.Combine(Structural.Hash(Rdma), Structural.Hash(Unified)));
}
