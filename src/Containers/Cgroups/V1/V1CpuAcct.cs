namespace Containers.Cgroups.V1;

/// <summary>The v1 cpuacct controller: CPU time used, in user and system mode. It sets no limit.</summary>
internal static class V1CpuAcct
{
    public const string Name = "cpuacct";

    /// <summary>Total, user and system nanoseconds.</summary>
    public static (long Total, long User, long System) Read(CgroupFiles files, string dir) => (
        files.TryReadNumber(dir, "cpuacct.usage") ?? 0,
        files.TryReadNumber(dir, "cpuacct.usage_user") ?? 0,
        files.TryReadNumber(dir, "cpuacct.usage_sys") ?? 0);
}
