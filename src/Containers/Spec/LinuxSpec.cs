using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// The Linux-specific part of the spec (<c>linux</c>): namespaces, id mappings, masked and read-only paths, and the
/// settings this runtime does not apply yet (cgroup limits, seccomp, sysctls, devices, …), which
/// <see cref="ContainerSpec.Validate"/> rejects.
/// </summary>
public sealed record LinuxSpec
{
    /// <summary>
    /// The namespaces the container gets (<c>namespaces</c>): a listed type without a path is new, with a path it is
    /// joined, and a type not listed is shared with the host.
    /// </summary>
    public ImmutableArray<LinuxNamespace> Namespaces { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>User id mappings for a new user namespace (<c>uidMappings</c>).</summary>
    public ImmutableArray<LinuxIdMapping> UidMappings { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Group id mappings for a new user namespace (<c>gidMappings</c>).</summary>
    public ImmutableArray<LinuxIdMapping> GidMappings { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>
    /// Absolute paths made unreadable inside the container (<c>maskedPaths</c>), for example <c>/proc/kcore</c>: a
    /// directory is covered with an empty read-only tmpfs, anything else with <c>/dev/null</c>. A path that does not
    /// exist needs no mask; one that exists but cannot be masked fails the start.
    /// </summary>
    public ImmutableArray<string> MaskedPaths { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>
    /// Absolute paths made read-only inside the container (<c>readonlyPaths</c>), for example <c>/proc/sys</c>. A path
    /// that does not exist is skipped; one that exists but cannot be made read-only fails the start.
    /// </summary>
    public ImmutableArray<string> ReadonlyPaths { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Kernel parameters set inside the container's namespaces (<c>sysctl</c>), for example <c>net.ipv4.ip_forward</c>.</summary>
    public ImmutableSortedDictionary<string, string> Sysctl { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Cgroup limits (<c>resources</c>); null sets none.</summary>
    public LinuxResources? Resources { get; init; }

    /// <summary>The cgroup to place the container in (<c>cgroupsPath</c>), or null to let the runtime choose.</summary>
    public string? CgroupsPath { get; init; }

    /// <summary>Device nodes to create in the container (<c>devices</c>).</summary>
    public ImmutableArray<LinuxDevice> Devices { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Host network devices to move into the container's network namespace, keyed by host name (<c>netDevices</c>).</summary>
    public ImmutableSortedDictionary<string, LinuxNetDevice> NetDevices { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, LinuxNetDevice>.Empty;

    /// <summary>The seccomp filter (<c>seccomp</c>); null installs none.</summary>
    public LinuxSeccomp? Seccomp { get; init; }

    /// <summary>The root mount's propagation (<c>rootfsPropagation</c>): <c>shared</c>, <c>slave</c>, <c>private</c>, <c>unbindable</c>, ….</summary>
    public string? RootfsPropagation { get; init; }

    /// <summary>The SELinux context of the container's mounts (<c>mountLabel</c>).</summary>
    public string? MountLabel { get; init; }

    /// <summary>Intel RDT cache and memory bandwidth settings (<c>intelRdt</c>).</summary>
    public LinuxIntelRdt? IntelRdt { get; init; }

    /// <summary>The NUMA memory policy (<c>memoryPolicy</c>).</summary>
    public LinuxMemoryPolicy? MemoryPolicy { get; init; }

    /// <summary>The execution domain (<c>personality</c>).</summary>
    public LinuxPersonality? Personality { get; init; }

    /// <summary>Clock offsets for a new time namespace, keyed <c>boottime</c> or <c>monotonic</c> (<c>timeOffsets</c>).</summary>
    public ImmutableSortedDictionary<string, LinuxTimeOffset> TimeOffsets { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, LinuxTimeOffset>.Empty;

    /// <summary>The entry for <paramref name="type"/>, or null when that namespace is shared with the host.</summary>
    public LinuxNamespace? FindNamespace(NamespaceType type)
    {
        foreach (var ns in Namespaces)
        {
            if (ns is not null && ns.Type == type)
            {
                return ns;
            }
        }

        return null;
    }

    /// <summary>Whether both have the same settings, comparing lists by content and order.</summary>
    public bool Equals(LinuxSpec? other) =>
        other is not null && Structural.Equal(Namespaces, other.Namespaces)
        && Structural.Equal(UidMappings, other.UidMappings) && Structural.Equal(GidMappings, other.GidMappings)
        && Structural.Equal(MaskedPaths, other.MaskedPaths) && Structural.Equal(ReadonlyPaths, other.ReadonlyPaths)
        && Structural.Equal(Sysctl, other.Sysctl) && Resources == other.Resources && string.Equals(CgroupsPath, other.CgroupsPath, StringComparison.Ordinal)
        && Structural.Equal(Devices, other.Devices) && Structural.Equal(NetDevices, other.NetDevices) && Seccomp == other.Seccomp
        && string.Equals(RootfsPropagation, other.RootfsPropagation, StringComparison.Ordinal)
        && string.Equals(MountLabel, other.MountLabel, StringComparison.Ordinal) && IntelRdt == other.IntelRdt
        && MemoryPolicy == other.MemoryPolicy && Personality == other.Personality && Structural.Equal(TimeOffsets, other.TimeOffsets);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Namespaces), Structural.Hash(UidMappings), Structural.Hash(GidMappings),
        Structural.Hash(MaskedPaths), Structural.Hash(ReadonlyPaths), Structural.Hash(Sysctl), HashCode.Combine(Resources, CgroupsPath),
        HashCode.Combine(
            Structural.Hash(Devices), Structural.Hash(NetDevices), Seccomp, RootfsPropagation, MountLabel, IntelRdt, MemoryPolicy,
            HashCode.Combine(Personality, Structural.Hash(TimeOffsets))));
}
