using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>The v2 pids controller: <c>pids.max</c> and <c>pids.current</c>.</summary>
internal static class V2Pids
{
    public const string Name = "pids";

    public static void Apply(string dir, LinuxPids pids) =>
        CgroupFile.Write(dir, "pids.max", V2Memory.Max(pids.Limit), "linux.resources.pids.limit");

    public static (long? Current, long? Limit) Read(CgroupFiles files, string dir) =>
        (files.TryReadNumber(dir, "pids.current"), files.TryReadNumber(dir, "pids.max"));
}
