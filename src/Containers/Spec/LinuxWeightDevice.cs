namespace Containers.Spec;

/// <summary>A block device's weight (<c>linux.resources.blockIO.weightDevice[]</c>).</summary>
public sealed record LinuxWeightDevice
{
    /// <summary>The device's major number (<c>major</c>).</summary>
    public long Major { get; init; }

    /// <summary>The device's minor number (<c>minor</c>).</summary>
    public long Minor { get; init; }

    /// <summary>The weight, 10 to 1000 (<c>weight</c>).</summary>
    public ushort? Weight { get; init; }

    /// <summary>The weight against the cgroup's own children, CFQ only (<c>leafWeight</c>).</summary>
    public ushort? LeafWeight { get; init; }
}
