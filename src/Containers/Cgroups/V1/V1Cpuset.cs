using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>
/// The v1 cpuset controller. A new v1 cpuset starts with no CPUs and no nodes, and a task cannot join it until
/// both are set: each new cgroup copies its parent's first, then narrows to the spec's.
/// </summary>
internal static class V1Cpuset
{
    public const string Name = "cpuset";
    private const string Field = "linux.resources.cpu";

    public static bool Needed(LinuxResources resources) => resources.Cpu is { Cpus: not null } or { Mems: not null };

    public static void Validate(LinuxCpu cpu)
    {
        CpuSet.RequireWithin(cpu.Cpus, CpuSet.OnlineCpus, $"{Field}.cpus", "CPU");
        CpuSet.RequireWithin(cpu.Mems, CpuSet.OnlineNodes, $"{Field}.mems", "memory node");
    }

    /// <summary>Gives a new cpuset its parent's CPUs and nodes (the parent's first, when it is new too).</summary>
    public static void Inherit(string dir)
    {
        var parent = Path.GetDirectoryName(dir)!;
        foreach (var file in (ReadOnlySpan<string>)["cpuset.cpus", "cpuset.mems"])
        {
            if (string.IsNullOrWhiteSpace(CgroupFile.TryRead(dir, file)))
            {
                if (string.IsNullOrWhiteSpace(CgroupFile.TryRead(parent, file)) && File.Exists(Path.Combine(Path.GetDirectoryName(parent)!, file)))
                {
                    Inherit(parent);
                }

                CgroupFile.Write(dir, file, CgroupFile.TryRead(parent, file) ?? "", null);
            }
        }
    }

    /// <summary>Whether a released cgroup's CPUs and nodes are still its parent's, as a new one's are (<see cref="V1Driver.Recycle"/>).</summary>
    public static bool Renew(CgroupFiles files, string dir)
    {
        var parent = Path.GetDirectoryName(dir)!;
        return files.TryRead(dir, "cpuset.cpus") is { } cpus && cpus == files.TryRead(parent, "cpuset.cpus")
            && files.TryRead(dir, "cpuset.mems") is { } mems && mems == files.TryRead(parent, "cpuset.mems");
    }

    public static void Apply(string dir, LinuxCpu cpu)
    {
        if (cpu.Cpus is { } cpus)
        {
            CgroupFile.Write(dir, "cpuset.cpus", cpus, $"{Field}.cpus");
        }

        if (cpu.Mems is { } mems)
        {
            CgroupFile.Write(dir, "cpuset.mems", mems, $"{Field}.mems");
        }
    }
}
