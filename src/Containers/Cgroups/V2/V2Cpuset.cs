using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>The v2 cpuset controller: <c>cpuset.cpus</c> and <c>cpuset.mems</c> (empty means the parent's, unlike v1).</summary>
internal static class V2Cpuset
{
    public const string Name = "cpuset";

    public static void Apply(string dir, LinuxCpu cpu)
    {
        if (cpu.Cpus is { } cpus)
        {
            CgroupFile.Write(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus");
        }

        if (cpu.Mems is { } mems)
        {
            CgroupFile.Write(dir, "cpuset.mems", mems, "linux.resources.cpu.mems");
        }
    }
}
