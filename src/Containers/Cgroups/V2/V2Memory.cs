using Containers.Cgroups.V1;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>
/// The v2 memory controller: <c>memory.max</c>, <c>memory.low</c>, <c>memory.swap.max</c>, and <c>memory.high</c> from
/// <c>linux.resources.unified</c>; usage, peak, and the OOM kills and throttle events of <c>memory.events</c>.
/// </summary>
internal static class V2Memory
{
    public const string Name = "memory";
    private const string Field = "linux.resources.memory";

    public static void Validate(LinuxMemory memory)
    {
        if (memory.Swappiness is not null)
        {
            throw new CgroupException($"{Field}.swappiness", "cgroup v2 has no per-cgroup swappiness: leave it unset");
        }

        if (memory.DisableOomKiller is true)
        {
            throw new CgroupException($"{Field}.disableOOMKiller", "cgroup v2 cannot disable the OOM killer: leave it unset");
        }
    }

    public static void Apply(string dir, LinuxMemory memory)
    {
        if (memory.Limit is { } limit)
        {
            CgroupFile.Write(dir, "memory.max", Max(limit), $"{Field}.limit");
        }

        // OCI's swap is memory plus swap; v2's swap.max is the swap alone.
        if (memory.Swap is { } swap)
        {
            var swapOnly = swap == -1 || memory.Limit is null or -1 ? swap : swap - memory.Limit.Value;
            CgroupFile.Write(dir, "memory.swap.max", Max(swapOnly), $"{Field}.swap");
        }

        if (memory.Reservation is { } reservation)
        {
            CgroupFile.Write(dir, "memory.low", Max(reservation), $"{Field}.reservation");
        }
    }

    /// <summary>
    /// Writes <c>memory.high</c> when <paramref name="resources"/> set it: past it the kernel reclaims the cgroup's
    /// memory and slows its allocations, and counts each time in <c>memory.events</c> <c>high</c>, but never OOM-kills.
    /// </summary>
    public static void ApplyHigh(string dir, LinuxResources resources)
    {
        if (UnifiedResources.MemoryHighOf(resources) is { } high)
        {
            CgroupFile.Write(dir, UnifiedResources.MemoryHigh, UnifiedResources.Format(high), UnifiedResources.PathOf(UnifiedResources.MemoryHigh));
        }
    }

    public static ContainerMemoryStatsParts Read(CgroupFiles files, string dir) => new(
        files.TryReadNumber(dir, "memory.current"),
        files.TryReadNumber(dir, "memory.peak"),
        files.TryReadNumber(dir, "memory.max"),
        OomKills(files, dir),
        files.TryReadKey(dir, "memory.events", "high"));

    /// <summary>The OOM killer's kills in the cgroup (<c>oom_kill</c> of <c>memory.events</c>).</summary>
    public static long OomKills(CgroupFiles files, string dir) => files.TryReadKey(dir, "memory.events", "oom_kill") ?? 0;

    public static string Max(long value) => value == -1 ? "max" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
