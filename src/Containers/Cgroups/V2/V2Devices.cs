using Containers.Linux;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>
/// cgroup v2's device controller: no file, a <c>BPF_PROG_TYPE_CGROUP_DEVICE</c> program attached to the container's
/// cgroup (<see cref="DeviceProgram"/>): deny all, allow the standard list, then the spec's rules in order, as on v1.
/// Attached with <c>BPF_F_ALLOW_MULTI</c>, it runs beside the programs of the cgroup's ancestors (a systemd unit's
/// DeviceAllow=), and a device must pass them all.
/// </summary>
/// <remarks>
/// Loading a device program takes <c>CAP_BPF</c> (or <c>CAP_SYS_ADMIN</c>) in the host's user namespace. Rootless,
/// spec rules are an error; the standard list is not attached, as the user namespace already withholds what it
/// guards: an unprivileged user's container cannot create a device node, and reaches only nodes the user may open.
/// </remarks>
internal static class V2Devices
{
    private const string Field = "linux.resources.devices";

    /// <summary>The license the kernel is told (the program calls no GPL-only helper).</summary>
    private const string License = "MIT";

    /// <summary>Whether this process attaches device programs: root in the host's user namespace.</summary>
    public static bool Attaches => Environment.IsPrivilegedProcess;

    public static void Validate(LinuxResources resources)
    {
        if (resources.Devices.IsEmpty)
        {
            return;
        }

        if (!Attaches)
        {
            throw new CgroupException(Field,
                "device rules on cgroup v2 are a BPF program, which only root (CAP_BPF) may attach: remove the rules (a rootless container cannot create device nodes, and opens only those the user may)");
        }

        for (var i = 0; i < resources.Devices.Length; i++)
        {
            if (resources.Devices[i] is { } rule && (rule.Major > uint.MaxValue || rule.Minor > uint.MaxValue))
            {
                throw new CgroupException($"{Field}[{i}]", $"major and minor must be below 2^32, got {rule.Major}:{rule.Minor}");
            }
        }
    }

    /// <summary>
    /// Attaches the program for the standard list and <paramref name="resources"/>' rules to <paramref name="dir"/>,
    /// then detaches the programs attached there before (a live update: for a moment both run, and a device must
    /// pass both, so nothing is allowed that neither list allows).
    /// </summary>
    public static void Apply(string dir, LinuxResources resources)
    {
        if (!Attaches)
        {
            return;
        }

        try
        {
            var code = DeviceProgram.Compile([.. DeviceRules.Standard, .. resources.Devices]);
            using var cgroup = LibC.OpenDirectory(dir);
            var previous = Bpf.Query(cgroup, Bpf.AttachCgroupDevice);
            using (var program = Bpf.Load(Bpf.ProgramTypeCgroupDevice, code, License, "containers_dev"))
            {
                Bpf.Attach(cgroup, program, Bpf.AttachCgroupDevice, Bpf.AllowMulti);
            }

            foreach (var id in previous)
            {
                using var old = Bpf.OpenProgram(id);
                Bpf.Detach(cgroup, old, Bpf.AttachCgroupDevice);
            }
        }
        catch (ContainersException e) when (e is not CgroupException)
        {
            throw new CgroupException(Field,
                $"the device program for {dir} could not be attached ({e.Message}): cgroup v2 needs a kernel with CONFIG_CGROUP_BPF and a process with CAP_BPF or CAP_SYS_ADMIN", e);
        }
    }
}
