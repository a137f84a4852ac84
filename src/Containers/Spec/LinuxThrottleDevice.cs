namespace Containers.Spec;

/// <summary>A block device's rate limit (an entry of the <c>linux.resources.blockIO.throttle*Device</c> lists).</summary>
public sealed record LinuxThrottleDevice
{
    /// <summary>The device's major number (<c>major</c>).</summary>
    public long Major { get; init; }

    /// <summary>The device's minor number (<c>minor</c>).</summary>
    public long Minor { get; init; }

    /// <summary>The limit per second, in bytes or operations as the list says (<c>rate</c>).</summary>
    public ulong Rate { get; init; }
}
