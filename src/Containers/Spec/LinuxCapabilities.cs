using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// The process's capability sets (<c>process.capabilities</c>), each a list of names such as <c>CAP_NET_BIND_SERVICE</c>
/// as in <c>capabilities(7)</c>. A capability missing from <see cref="Bounding"/> can never be regained.
/// </summary>
public sealed record LinuxCapabilities
{
    /// <summary>The bounding set (<c>bounding</c>): the most the process and its children can ever hold.</summary>
    public ImmutableArray<string> Bounding { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The effective set (<c>effective</c>): what the kernel checks now.</summary>
    public ImmutableArray<string> Effective { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The inheritable set (<c>inheritable</c>): what may pass through <c>execve(2)</c> to capable files.</summary>
    public ImmutableArray<string> Inheritable { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The permitted set (<c>permitted</c>): what the process may make effective.</summary>
    public ImmutableArray<string> Permitted { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The ambient set (<c>ambient</c>): what survives <c>execve(2)</c> of an ordinary program.</summary>
    public ImmutableArray<string> Ambient { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether all five sets have the same names in the same order.</summary>
    public bool Equals(LinuxCapabilities? other) =>
        other is not null && Structural.Equal(Bounding, other.Bounding) && Structural.Equal(Effective, other.Effective)
        && Structural.Equal(Inheritable, other.Inheritable) && Structural.Equal(Permitted, other.Permitted)
        && Structural.Equal(Ambient, other.Ambient);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Bounding), Structural.Hash(Effective), Structural.Hash(Inheritable), Structural.Hash(Permitted), Structural.Hash(Ambient));
}
