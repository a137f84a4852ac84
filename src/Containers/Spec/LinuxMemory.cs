using System.Text.Json.Serialization;

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

    /// <summary>The kernel memory limit (<c>kernel</c>); deprecated by OCI, gone from kernels since 5.4.</summary>
    public long? Kernel { get; init; }

    /// <summary>The kernel TCP buffer limit (<c>kernelTCP</c>).</summary>
    [JsonPropertyName("kernelTCP")]
    public long? KernelTcp { get; init; }

    /// <summary>How readily the kernel swaps the container's pages, 0 to 100 (<c>swappiness</c>).</summary>
    public ulong? Swappiness { get; init; }

    /// <summary>Whether the OOM killer is disabled for the container (<c>disableOOMKiller</c>).</summary>
    [JsonPropertyName("disableOOMKiller")]
    public bool? DisableOomKiller { get; init; }

    /// <summary>Whether memory is accounted hierarchically (<c>useHierarchy</c>, cgroup v1).</summary>
    public bool? UseHierarchy { get; init; }

    /// <summary>Whether an update to a limit below the current use is refused (<c>checkBeforeUpdate</c>).</summary>
    public bool? CheckBeforeUpdate { get; init; }
}
