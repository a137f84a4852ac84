using System.Text.Json;

namespace Containers.Spec;

/// <summary>
/// The settings OCI defines that this runtime does not apply yet. Accepting one and running without it would be
/// worse than refusing: a caller who asks for a seccomp filter or a memory limit must not get a container without
/// it. Each rule names the field's JSON path; a feature that starts applying a field removes its rule here.
/// </summary>
internal static partial class SpecValidator
{
    /// <summary>Checks the process of an exec into a running container: the rules of <c>process</c>, and what the runtime does not apply.</summary>
    /// <exception cref="InvalidSpecException">The process has at least one problem.</exception>
    public static void ThrowIfInvalidForExec(ProcessSpec process, ProcessSpec? container)
    {
        var errors = new List<SpecError>();
        ValidateProcess(process, errors);
        RejectUnsupported(process, errors);

        // An exec runs with the container's capability sets: a process that joins a container never holds more (or
        // other) capabilities; a copy of the container's own process spec carries the same sets and is fine.
        if (process.Capabilities is not null && process.Capabilities != container?.Capabilities)
        {
            errors.Add(new("process.capabilities", "must be absent or the container's own sets: an exec gets the container's capability sets, never others"));
        }
        if (errors.Count > 0)
        {
            throw new InvalidSpecException(errors);
        }
    }

    private static void RejectUnsupported(ContainerSpec spec, List<SpecError> errors)
    {
        Reject(spec.Domainname, "domainname", "the NIS domain name is not set by this runtime", errors);
        Reject(spec.Hooks, "hooks", "lifecycle hooks are not run by this runtime", errors);
        Reject(spec.Solaris, "solaris", OtherPlatform, errors);
        Reject(spec.Windows, "windows", OtherPlatform, errors);
        Reject(spec.Vm, "vm", OtherPlatform, errors);
        Reject(spec.Zos, "zos", OtherPlatform, errors);
        Reject(spec.FreeBsd, "freebsd", OtherPlatform, errors);
        if (spec.Process is { } process)
        {
            RejectUnsupported(process, errors);
        }

        for (int i = 0; i < spec.Mounts.Length; i++)
        {
            if (spec.Mounts[i] is { } mount)
            {
                Reject(mount.UidMappings, $"mounts[{i}].uidMappings", "id-mapped mounts are not made by this runtime", errors);
                Reject(mount.GidMappings, $"mounts[{i}].gidMappings", "id-mapped mounts are not made by this runtime", errors);
            }
        }

        if (spec.Linux is { } linux)
        {
            RejectUnsupported(linux, errors);
        }
    }

    /// <summary>The process fields neither a container's first process nor an exec applies yet.</summary>
    private static void RejectUnsupported(ProcessSpec process, List<SpecError> errors)
    {
        Reject(process.ConsoleSize, "process.consoleSize", "the terminal is not sized from the spec; call Container.Terminal.Resize after create", errors);
        Reject(process.User.Username, "process.user.username", "it is a Windows setting; give process.user.uid and gid", errors);
        Reject(process.CommandLine, "process.commandLine", "it is a Windows setting; give process.args", errors);
        Reject(process.ApparmorProfile, "process.apparmorProfile", "AppArmor profiles are not applied by this runtime", errors);
        Reject(process.Scheduler, "process.scheduler", "scheduling policies are not set by this runtime", errors);
        Reject(process.SelinuxLabel, "process.selinuxLabel", "SELinux labels are not applied by this runtime", errors);
        Reject(process.IoPriority, "process.ioPriority", "I/O priorities are not set by this runtime", errors);
        Reject(process.ExecCpuAffinity, "process.execCPUAffinity", "CPU affinity is not set by this runtime", errors);
    }

    private static void RejectUnsupported(LinuxSpec linux, List<SpecError> errors)
    {
        Reject(linux.Sysctl, "linux.sysctl", "sysctls are not set by this runtime", errors);
        if (linux.Resources is { } resources)
        {
            RejectUnsupported(resources, errors);
        }

        Reject(linux.CgroupsPath, "linux.cgroupsPath", "this runtime does not place containers in cgroups", errors);
        Reject(linux.NetDevices, "linux.netDevices", "network devices are not moved into containers by this runtime", errors);
        Reject(linux.Seccomp?.ListenerPath, "linux.seccomp.listenerPath", "seccomp notifications are not sent to a socket by this runtime", errors);
        Reject(linux.Seccomp?.ListenerMetadata, "linux.seccomp.listenerMetadata", "seccomp notifications are not sent to a socket by this runtime", errors);
        Reject(linux.RootfsPropagation, "linux.rootfsPropagation", "the root's propagation is always private in this runtime", errors);
        Reject(linux.MountLabel, "linux.mountLabel", "SELinux labels are not applied by this runtime", errors);
        Reject(linux.IntelRdt, "linux.intelRdt", "Intel RDT is not configured by this runtime", errors);
        Reject(linux.MemoryPolicy, "linux.memoryPolicy", "NUMA memory policies are not set by this runtime", errors);
        Reject(linux.Personality, "linux.personality", "the execution domain is not set by this runtime", errors);
        Reject(linux.TimeOffsets, "linux.timeOffsets", "time namespace offsets are not set by this runtime", errors);
    }

    /// <summary>The cgroup settings the drivers do not apply (the rest is applied, or refused by the host's driver when it cannot be).</summary>
    private static void RejectUnsupported(LinuxResources resources, List<SpecError> errors)
    {
        const string path = "linux.resources";
        Reject(resources.Network, $"{path}.network", "net_cls and net_prio are not configured by this runtime", errors);
        Reject(resources.Rdma, $"{path}.rdma", "RDMA limits are not applied by this runtime", errors);
        foreach (var key in resources.Unified.Keys)
        {
            if (key != UnifiedResources.MemoryHigh)
            {
                Reject(key, UnifiedResources.PathOf(key),
                    $"this runtime writes only {UnifiedResources.Supported} of linux.resources.unified; other cgroup v2 files are not written, use the typed fields", errors);
            }
        }

        if (resources.Memory is { } memory)
        {
            Reject(memory.Kernel, $"{path}.memory.kernel", "kernel memory limits are gone from kernels since 5.4", errors);
            Reject(memory.KernelTcp, $"{path}.memory.kernelTCP", "TCP buffer limits are not applied by this runtime", errors);
            Reject(memory.UseHierarchy, $"{path}.memory.useHierarchy", "memory is always accounted hierarchically here", errors);
            Reject(memory.CheckBeforeUpdate, $"{path}.memory.checkBeforeUpdate", "an update is not checked against current use by this runtime", errors);
        }

        if (resources.Cpu is { } cpu)
        {
            Reject(cpu.RealtimeRuntime, $"{path}.cpu.realtimeRuntime", "realtime CPU time is not assigned by this runtime", errors);
            Reject(cpu.RealtimePeriod, $"{path}.cpu.realtimePeriod", "realtime CPU time is not assigned by this runtime", errors);
        }

        if (resources.BlockIO is { } io)
        {
            Reject(io.LeafWeight, $"{path}.blockIO.leafWeight", "leaf weights (CFQ) are not set by this runtime", errors);
            Reject(io.WeightDevice, $"{path}.blockIO.weightDevice", "per-device weights are not set by this runtime", errors);
        }
    }

    // What a bind mount applies: the bind itself, the per-mount attributes, and the defaults that ask for nothing.
    // Anything else would be filesystem data, which a bind has no filesystem to pass to.
    private static readonly HashSet<string> BindOptions = new(StringComparer.Ordinal)
    {
        "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "strictatime", "atime", "async",
        "private", "rprivate",
    };

    private static readonly HashSet<string> PropagationOptions = new(StringComparer.Ordinal) { "shared", "rshared", "slave", "rslave", "unbindable", "runbindable" };

    private static void RejectUnsupportedMountOption(MountSpec mount, string option, string path, List<SpecError> errors)
    {
        if (PropagationOptions.Contains(option))
        {
            Reject(option, path, $"'{option}' propagation is not set by this runtime; every mount in the container is private", errors);
        }
        else if (mount.IsBind && !BindOptions.Contains(option))
        {
            Reject(option, path, $"'{option}' is not applied to a bind mount by this runtime", errors);
        }
    }

    private const string OtherPlatform = "it configures another platform; this runtime runs Linux containers";

    private static void Reject(object? value, string path, string reason, List<SpecError> errors)
    {
        bool set = value switch
        {
            null => false,
            string text => text.Length > 0,
            JsonElement element => element.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined),
            System.Collections.ICollection collection => collection.Count > 0,
            _ => true,
        };
        if (set)
        {
            errors.Add(new(path, $"is not supported yet ({reason}): remove it"));
        }
    }
}
