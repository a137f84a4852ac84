using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 pids controller: the task limit and count.</summary>
internal static class V1Pids
{
    public const string Name = "pids";

    public static bool Needed(LinuxResources resources) => resources.Pids is not null;

    public static void Apply(string dir, LinuxPids pids) =>
        CgroupFile.Write(dir, "pids.max", pids.Limit == -1 ? "max" : pids.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "linux.resources.pids.limit");

    public static (long? Current, long? Limit) Read(CgroupFiles files, string dir) =>
        (files.TryReadNumber(dir, "pids.current"), files.TryReadNumber(dir, "pids.max"));
}
