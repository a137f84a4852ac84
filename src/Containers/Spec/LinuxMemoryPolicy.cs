using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// The process's NUMA memory policy (<c>linux.memoryPolicy</c>), as <c>set_mempolicy(2)</c> takes it. Not applied by
/// this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxMemoryPolicy
{
    /// <summary>The mode (<c>mode</c>), for example <c>MPOL_BIND</c> or <c>MPOL_INTERLEAVE</c>.</summary>
    public string Mode { get; init => field = value ?? ""; } = "";

    /// <summary>The nodes as a list such as <c>0-1,3</c> (<c>nodes</c>).</summary>
    public string? Nodes { get; init; }

    /// <summary>Mode flags (<c>flags</c>), for example <c>MPOL_F_STATIC_NODES</c>.</summary>
    public ImmutableArray<string> Flags { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether both set the same mode, nodes and flags (in order).</summary>
    public bool Equals(LinuxMemoryPolicy? other) =>
        other is not null && string.Equals(Mode, other.Mode, StringComparison.Ordinal)
        && string.Equals(Nodes, other.Nodes, StringComparison.Ordinal) && Structural.Equal(Flags, other.Flags);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Mode, Nodes, Structural.Hash(Flags));
}
