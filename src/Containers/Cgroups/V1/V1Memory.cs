using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 memory controller: hard limit, soft limit, memory+swap, swappiness, the OOM killer; usage and OOM kills.</summary>
internal static class V1Memory
{
    public const string Name = "memory";
    private const string Field = "linux.resources.memory";

    public static bool Needed(LinuxResources resources) => resources.Memory is not null;

    public static void Validate(string dir, LinuxMemory memory)
    {
        if (memory.Swap is not null && !File.Exists(Path.Combine(dir, "memory.memsw.limit_in_bytes")))
        {
            throw new CgroupException($"{Field}.swap", "this kernel does not account swap (memory.memsw.* is missing): boot it with swapaccount=1, or leave swap unset");
        }
    }

    /// <summary>The files a start with memory limits writes (<see cref="CgroupFiles.OpenAhead"/>), the OOM watch's registration last.</summary>
    public static readonly string[] WrittenFiles = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cgroup.event_control"];

    /// <summary>The files a start reads: the swap limit in force, and the OOM kills once the process exits.</summary>
    public static readonly string[] ReadFiles = ["memory.memsw.limit_in_bytes", "memory.oom_control"];

    public static void Apply(CgroupFiles files, string dir, LinuxMemory memory)
    {
        // The kernel keeps limit <= memory+swap at every moment: raising both needs memsw first, lowering both the limit first.
        var currentSwap = files.TryReadNumber(dir, "memory.memsw.limit_in_bytes");
        var swapFirst = memory.Swap is { } swap
            && (swap == -1 || memory.Limit is -1 || (memory.Limit is { } limit && currentSwap is { } c && limit > c));
        if (swapFirst)
        {
            files.Write(dir, "memory.memsw.limit_in_bytes", memory.Swap!.Value, $"{Field}.swap");
        }

        if (memory.Limit is { } l)
        {
            files.Write(dir, "memory.limit_in_bytes", l, $"{Field}.limit");
        }

        if (!swapFirst && memory.Swap is { } s)
        {
            files.Write(dir, "memory.memsw.limit_in_bytes", s, $"{Field}.swap");
        }

        if (memory.Reservation is { } reservation)
        {
            files.Write(dir, "memory.soft_limit_in_bytes", reservation, $"{Field}.reservation");
        }

        if (memory.Swappiness is { } swappiness)
        {
            files.Write(dir, "memory.swappiness", (long)swappiness, $"{Field}.swappiness");
        }

        if (memory.DisableOomKiller is { } disable)
        {
            files.Write(dir, "memory.oom_control", disable ? 1 : 0, $"{Field}.disableOOMKiller");
        }
    }

    public static ContainerMemoryStatsParts Read(CgroupFiles files, string dir)
    {
        var limit = files.TryReadNumber(dir, "memory.limit_in_bytes");
        return new(
            files.TryReadNumber(dir, "memory.usage_in_bytes"),
            files.TryReadNumber(dir, "memory.max_usage_in_bytes"),
            limit >= long.MaxValue / 2 ? null : limit,
            OomKills(files, dir));
    }

    /// <summary>The OOM killer's kills in the cgroup (<c>oom_kill</c> of <c>memory.oom_control</c>).</summary>
    public static long OomKills(CgroupFiles files, string dir) => files.TryReadKey(dir, "memory.oom_control", "oom_kill") ?? 0;
}

/// <summary>Memory counters as a controller reads them.</summary>
/// <remarks><see cref="HighEvents"/> is v2's alone: v1 has no <c>memory.high</c>.</remarks>
internal readonly record struct ContainerMemoryStatsParts(long? Usage, long? Peak, long? Limit, long OomKills, long? HighEvents = null);
