using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>The Linux-specific part of the spec (<c>linux</c>): namespaces, id mappings, masked paths, sysctls.</summary>
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

    /// <summary>Absolute paths made unreadable inside the container (<c>maskedPaths</c>), for example <c>/proc/kcore</c>.</summary>
    public ImmutableArray<string> MaskedPaths { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Absolute paths made read-only inside the container (<c>readonlyPaths</c>), for example <c>/proc/sys</c>.</summary>
    public ImmutableArray<string> ReadonlyPaths { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Kernel parameters set inside the container's namespaces (<c>sysctl</c>), for example <c>net.ipv4.ip_forward</c>.</summary>
    public ImmutableSortedDictionary<string, string> Sysctl { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Cgroup limits (<c>resources</c>); null sets none.</summary>
    public LinuxResources? Resources { get; init; }

    /// <summary>The cgroup to place the container in (<c>cgroupsPath</c>), or null to let the runtime choose.</summary>
    public string? CgroupsPath { get; init; }

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
        && Structural.Equal(Sysctl, other.Sysctl) && Resources == other.Resources && string.Equals(CgroupsPath, other.CgroupsPath, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Namespaces), Structural.Hash(UidMappings), Structural.Hash(GidMappings),
        Structural.Hash(MaskedPaths), Structural.Hash(ReadonlyPaths), Structural.Hash(Sysctl), HashCode.Combine(Resources, CgroupsPath));
}
