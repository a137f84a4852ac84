using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>Block I/O weights and throttles (<c>linux.resources.blockIO</c>; cgroup v1 <c>blkio</c>, v2 <c>io</c>).</summary>
public sealed record LinuxBlockIO
{
    /// <summary>The cgroup's weight, 10 to 1000 (<c>weight</c>).</summary>
    public ushort? Weight { get; init; }

    /// <summary>The weight against the cgroup's own children, CFQ only (<c>leafWeight</c>).</summary>
    public ushort? LeafWeight { get; init; }

    /// <summary>Per-device weights (<c>weightDevice</c>).</summary>
    public ImmutableArray<LinuxWeightDevice> WeightDevice { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Per-device read limits in bytes per second (<c>throttleReadBpsDevice</c>).</summary>
    public ImmutableArray<LinuxThrottleDevice> ThrottleReadBpsDevice { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Per-device write limits in bytes per second (<c>throttleWriteBpsDevice</c>).</summary>
    public ImmutableArray<LinuxThrottleDevice> ThrottleWriteBpsDevice { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Per-device read limits in operations per second (<c>throttleReadIOPSDevice</c>).</summary>
    [JsonPropertyName("throttleReadIOPSDevice")]
    public ImmutableArray<LinuxThrottleDevice> ThrottleReadIopsDevice { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Per-device write limits in operations per second (<c>throttleWriteIOPSDevice</c>).</summary>
    [JsonPropertyName("throttleWriteIOPSDevice")]
    public ImmutableArray<LinuxThrottleDevice> ThrottleWriteIopsDevice { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether both have the same settings, comparing lists by content and order.</summary>
    public bool Equals(LinuxBlockIO? other) =>
        other is not null && Weight == other.Weight && LeafWeight == other.LeafWeight && Structural.Equal(WeightDevice, other.WeightDevice)
        && Structural.Equal(ThrottleReadBpsDevice, other.ThrottleReadBpsDevice) && Structural.Equal(ThrottleWriteBpsDevice, other.ThrottleWriteBpsDevice)
        && Structural.Equal(ThrottleReadIopsDevice, other.ThrottleReadIopsDevice) && Structural.Equal(ThrottleWriteIopsDevice, other.ThrottleWriteIopsDevice);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Weight, LeafWeight, Structural.Hash(WeightDevice), Structural.Hash(ThrottleReadBpsDevice), Structural.Hash(ThrottleWriteBpsDevice),
        Structural.Hash(ThrottleReadIopsDevice), Structural.Hash(ThrottleWriteIopsDevice));
}
