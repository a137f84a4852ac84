using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>The net_cls and net_prio cgroup settings (<c>linux.resources.network</c>).</summary>
public sealed record LinuxNetwork
{
    /// <summary>The class id tagged on the container's packets (<c>classID</c>).</summary>
    [JsonPropertyName("classID")]
    public uint? ClassId { get; init; }

    /// <summary>Per-interface priorities of the container's traffic (<c>priorities</c>).</summary>
    public ImmutableArray<LinuxInterfacePriority> Priorities { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether both have the same class id and priorities (in order).</summary>
    public bool Equals(LinuxNetwork? other) =>
        other is not null && ClassId == other.ClassId && Structural.Equal(Priorities, other.Priorities);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ClassId, Structural.Hash(Priorities));
}
