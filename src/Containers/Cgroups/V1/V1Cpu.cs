using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 cpu controller: CFS shares, quota and period, burst, idle; throttling counters.</summary>
internal static class V1Cpu
{
    public const string Name = "cpu";
    private const string Field = "linux.resources.cpu";

    public static bool Needed(LinuxResources resources) =>
        resources.Cpu is { } cpu && (cpu.Shares is not null || cpu.Quota is not null || cpu.Period is not null || cpu.Burst is not null || cpu.Idle is not null);

    public static void Validate(string dir, LinuxCpu cpu)
    {
        if (cpu.Burst is not null && !File.Exists(Path.Combine(dir, "cpu.cfs_burst_us")))
        {
            throw new CgroupException($"{Field}.burst", "this kernel has no CFS burst (cpu.cfs_burst_us): leave burst unset");
        }

        if (cpu.Idle is not null && !File.Exists(Path.Combine(dir, "cpu.idle")))
        {
            throw new CgroupException($"{Field}.idle", "this kernel has no SCHED_IDLE cgroups (cpu.idle): leave idle unset");
        }
    }

    /// <summary>The files a start with CPU limits writes (<see cref="CgroupFiles.OpenAhead"/>).</summary>
    public static readonly string[] WrittenFiles = ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"];

    public static void Apply(CgroupFiles files, string dir, LinuxCpu cpu)
    {
        if (cpu.Shares is { } shares)
        {
            files.Write(dir, "cpu.shares", (long)shares, $"{Field}.shares");
        }

        // The period first: a quota is checked against the period in force.
        if (cpu.Period is { } period)
        {
            files.Write(dir, "cpu.cfs_period_us", (long)period, $"{Field}.period");
        }

        if (cpu.Quota is { } quota)
        {
            files.Write(dir, "cpu.cfs_quota_us", quota, $"{Field}.quota");
        }

        if (cpu.Burst is { } burst)
        {
            files.Write(dir, "cpu.cfs_burst_us", (long)burst, $"{Field}.burst");
        }

        if (cpu.Idle is { } idle)
        {
            files.Write(dir, "cpu.idle", idle, $"{Field}.idle");
        }
    }

    /// <summary>
    /// Whether a released cgroup's CFS settings are a new one's (shares 1024, no quota, a 100 ms period, no burst, not
    /// idle) and its throttling counters, which cannot be zeroed, are still 0 (<see cref="V1Driver.Recycle"/>): not
    /// once a quota was in force.
    /// </summary>
    public static bool Renew(CgroupFiles files, string dir) =>
        files.TryRead(dir, "cpu.cfs_quota_us") == "-1"
        && files.TryRead(dir, "cpu.shares") == "1024"
        && files.TryRead(dir, "cpu.cfs_period_us") == "100000"
        && files.TryRead(dir, "cpu.cfs_burst_us") is null or "0"
        && files.TryRead(dir, "cpu.idle") is null or "0"
        && CgroupFile.IsZero(files.TryRead(dir, "cpu.stat"))
        && (files.TryRead(dir, "cpu.stat.local") is not { } local || CgroupFile.IsZero(local));

    /// <summary>Periods, throttled periods and throttled nanoseconds from <c>cpu.stat</c>.</summary>
    public static (long Periods, long Throttled, long ThrottledNs) Read(CgroupFiles files, string dir)
    {
        var stat = files.TryRead(dir, "cpu.stat") ?? "";
        return (CgroupFile.Key(stat, "nr_periods") ?? 0, CgroupFile.Key(stat, "nr_throttled") ?? 0, CgroupFile.Key(stat, "throttled_time") ?? 0);
    }
}
