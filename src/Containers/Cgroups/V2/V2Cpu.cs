using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>The v2 cpu controller: <c>cpu.weight</c> (from shares), <c>cpu.max</c>, <c>cpu.max.burst</c>, <c>cpu.idle</c>; time and throttling from <c>cpu.stat</c>.</summary>
internal static class V2Cpu
{
    public const string Name = "cpu";
    private const string Field = "linux.resources.cpu";

    public static bool Needed(LinuxResources resources) => V1.V1Cpu.Needed(resources);

    public static void Apply(string dir, LinuxCpu cpu)
    {
        if (cpu.Shares is { } shares)
        {
            // shares 2..262144 onto weight 1..10000, as runc and crun convert them.
            var weight = 1 + ((long)Math.Min(shares, 262144UL) - 2) * 9999 / 262142;
            CgroupFile.Write(dir, "cpu.weight", weight, $"{Field}.shares");
        }

        if (cpu.Quota is not null || cpu.Period is not null)
        {
            var period = cpu.Period ?? 100_000;
            var quota = cpu.Quota is null or -1 ? "max" : cpu.Quota.Value.ToString(CultureInfo.InvariantCulture);
            CgroupFile.Write(dir, "cpu.max", string.Create(CultureInfo.InvariantCulture, $"{quota} {period}"), $"{Field}.quota");
        }

        if (cpu.Burst is { } burst)
        {
            CgroupFile.Write(dir, "cpu.max.burst", (long)burst, $"{Field}.burst");
        }

        if (cpu.Idle is { } idle)
        {
            CgroupFile.Write(dir, "cpu.idle", idle, $"{Field}.idle");
        }
    }

    /// <summary>Microsecond counters of <c>cpu.stat</c>.</summary>
    public static (long Usage, long User, long System, long Periods, long Throttled, long ThrottledUs) Read(CgroupFiles files, string dir)
    {
        var stat = files.TryRead(dir, "cpu.stat") ?? "";
        return (
            CgroupFile.Key(stat, "usage_usec") ?? 0,
            CgroupFile.Key(stat, "user_usec") ?? 0,
            CgroupFile.Key(stat, "system_usec") ?? 0,
            CgroupFile.Key(stat, "nr_periods") ?? 0,
            CgroupFile.Key(stat, "nr_throttled") ?? 0,
            CgroupFile.Key(stat, "throttled_usec") ?? 0);
    }
}
