using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// Intel Resource Director Technology settings (<c>linux.intelRdt</c>): cache and memory bandwidth allocation through
/// resctrl. Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxIntelRdt
{
    /// <summary>The resctrl class of service (<c>closID</c>).</summary>
    [JsonPropertyName("closID")]
    public string? ClosId { get; init; }

    /// <summary>Lines written as they are to the class's <c>schemata</c> file (<c>schemata</c>).</summary>
    public ImmutableArray<string> Schemata { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The L3 cache schema, <c>L3:id=mask;…</c> (<c>l3CacheSchema</c>).</summary>
    public string? L3CacheSchema { get; init; }

    /// <summary>The memory bandwidth schema, <c>MB:id=bandwidth;…</c> (<c>memBwSchema</c>).</summary>
    public string? MemBwSchema { get; init; }

    /// <summary>Whether a resctrl monitoring group is created (<c>enableMonitoring</c>).</summary>
    public bool EnableMonitoring { get; init; }

    /// <summary>Whether both have the same settings, comparing lists by content and order.</summary>
    public bool Equals(LinuxIntelRdt? other) =>
        other is not null && string.Equals(ClosId, other.ClosId, StringComparison.Ordinal) && Structural.Equal(Schemata, other.Schemata)
        && string.Equals(L3CacheSchema, other.L3CacheSchema, StringComparison.Ordinal)
        && string.Equals(MemBwSchema, other.MemBwSchema, StringComparison.Ordinal) && EnableMonitoring == other.EnableMonitoring;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ClosId, Structural.Hash(Schemata), L3CacheSchema, MemBwSchema, EnableMonitoring);
}
