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

    /// <summary>
    /// Docker's default set (<c>CAP_CHOWN</c>, <c>CAP_DAC_OVERRIDE</c>, <c>CAP_FSETID</c>, <c>CAP_FOWNER</c>,
    /// <c>CAP_MKNOD</c>, <c>CAP_NET_RAW</c>, <c>CAP_SETGID</c>, <c>CAP_SETUID</c>, <c>CAP_SETFCAP</c>, <c>CAP_SETPCAP</c>,
    /// <c>CAP_NET_BIND_SERVICE</c>, <c>CAP_SYS_CHROOT</c>, <c>CAP_KILL</c>, <c>CAP_AUDIT_WRITE</c>) as bounding, effective
    /// and permitted, with empty inheritable and ambient sets. A process whose spec has no <c>capabilities</c> gets
    /// this set less <c>CAP_MKNOD</c> (no device rules apply yet to make it harmless) and less what the host's own
    /// bounding set lacks.
    /// </summary>
    public static LinuxCapabilities Default { get; } = Of(CapabilityNames.DockerDefault);

    /// <summary>No capability in any set: what the sandbox preset and <c>--cap-drop ALL</c> give.</summary>
    public static LinuxCapabilities None { get; } = new();

    /// <summary>
    /// <paramref name="names"/> as bounding, effective and permitted (inheritable and ambient empty), as Docker
    /// sets a container's root. Names are spelled as in capabilities(7); <c>net_admin</c> and <c>NET_ADMIN</c> are
    /// accepted too.
    /// </summary>
    /// <exception cref="InvalidSpecException">A name is not a capability.</exception>
    /// <example><code>var caps = LinuxCapabilities.Of("CAP_NET_BIND_SERVICE", "CAP_CHOWN");</code></example>
    public static LinuxCapabilities Of(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var set = Canonical(names, "process.capabilities");
        return new LinuxCapabilities { Bounding = set, Effective = set, Permitted = set };
    }

    /// <summary>
    /// This set plus <paramref name="names"/> in bounding, effective and permitted (Docker's <c>--cap-add</c>);
    /// <c>ALL</c> adds every capability Linux defines.
    /// </summary>
    /// <exception cref="InvalidSpecException">A name is not a capability.</exception>
    [System.Diagnostics.Contracts.Pure]
    public LinuxCapabilities WithAdded(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var added = names.Any(IsAll) ? [.. CapabilityNames.All] : Canonical(names, "--cap-add");
        return this with
        {
            Bounding = Union(Bounding, added),
            Effective = Union(Effective, added),
            Permitted = Union(Permitted, added),
        };
    }

    /// <summary>
    /// This set without <paramref name="names"/>, removed from all five sets (Docker's <c>--cap-drop</c>); <c>ALL</c>
    /// removes every capability.
    /// </summary>
    /// <exception cref="InvalidSpecException">A name is not a capability.</exception>
    [System.Diagnostics.Contracts.Pure]
    public LinuxCapabilities WithDropped(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Any(IsAll))
        {
            return None;
        }

        var dropped = Canonical(names, "--cap-drop");
        return new LinuxCapabilities
        {
            Bounding = Bounding.RemoveRange(dropped),
            Effective = Effective.RemoveRange(dropped),
            Inheritable = Inheritable.RemoveRange(dropped),
            Permitted = Permitted.RemoveRange(dropped),
            Ambient = Ambient.RemoveRange(dropped),
        };
    }

    private static bool IsAll(string name) => string.Equals(name?.Trim(), "ALL", StringComparison.OrdinalIgnoreCase);

    private static ImmutableArray<string> Union(ImmutableArray<string> set, ImmutableArray<string> added) =>
        [.. set, .. added.Where(a => !set.Contains(a))];

    private static ImmutableArray<string> Canonical(IEnumerable<string> names, string path)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        var errors = new List<SpecError>();
        foreach (var name in names)
        {
            if (name is not null && CapabilityNames.Canonical(name) is { } canonical)
            {
                if (!result.Contains(canonical))
                {
                    result.Add(canonical);
                }
            }
            else
            {
                errors.Add(new(path, $"'{name}' is not a capability (capabilities(7) names such as CAP_NET_BIND_SERVICE, or ALL)"));
            }
        }

        return errors.Count > 0 ? throw new InvalidSpecException(errors) : result.ToImmutable();
    }

    /// <summary>Whether all five sets have the same names in the same order.</summary>
    public bool Equals(LinuxCapabilities? other) =>
        other is not null && Structural.Equal(Bounding, other.Bounding) && Structural.Equal(Effective, other.Effective)
        && Structural.Equal(Inheritable, other.Inheritable) && Structural.Equal(Permitted, other.Permitted)
        && Structural.Equal(Ambient, other.Ambient);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Bounding), Structural.Hash(Effective), Structural.Hash(Inheritable), Structural.Hash(Permitted), Structural.Hash(Ambient));
}
