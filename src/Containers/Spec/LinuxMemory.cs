namespace Containers.Spec;

/// <summary>Memory limits in bytes (<c>linux.resources.memory</c>); -1 means unlimited.</summary>
public sealed record LinuxMemory
{
    /// <summary>The hard limit on memory use (<c>limit</c>): past it the kernel reclaims, then OOM-kills.</summary>
    public long? Limit { get; init; }

    /// <summary>The soft limit the kernel reclaims towards under pressure (<c>reservation</c>).</summary>
    public long? Reservation { get; init; }

    /// <summary>The limit on memory plus swap (<c>swap</c>), at least <see cref="Limit"/>.</summary>
    public long? Swap { get; init; }
}
