using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// The process's execution domain (<c>linux.personality</c>), as <c>personality(2)</c> sets it. Not applied by this
/// runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxPersonality
{
    /// <summary>The domain (<c>domain</c>): <c>LINUX</c> or <c>LINUX32</c>.</summary>
    public string Domain { get; init => field = value ?? ""; } = "";

    /// <summary>Additional flags (<c>flags</c>); OCI defines none yet.</summary>
    public ImmutableArray<string> Flags { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether both set the same domain and flags (in order).</summary>
    public bool Equals(LinuxPersonality? other) =>
        other is not null && string.Equals(Domain, other.Domain, StringComparison.Ordinal) && Structural.Equal(Flags, other.Flags);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Domain, Structural.Hash(Flags));
}
