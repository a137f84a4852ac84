using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>One program run at a point of the container's lifecycle (an entry of a <see cref="Hooks"/> list).</summary>
public sealed record Hook
{
    /// <summary>The absolute path of the program on the host (<c>path</c>).</summary>
    public string Path { get; init => field = value ?? ""; } = "";

    /// <summary>Its arguments, <c>argv[0]</c> included (<c>args</c>).</summary>
    public ImmutableArray<string> Args { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Its environment as <c>KEY=VALUE</c> entries (<c>env</c>).</summary>
    public ImmutableArray<string> Env { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Seconds after which the hook is aborted (<c>timeout</c>), or null for none.</summary>
    public int? Timeout { get; init; }

    /// <summary>Whether both hooks run the same program with the same arguments, environment and timeout.</summary>
    public bool Equals(Hook? other) =>
        other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal) && Structural.Equal(Args, other.Args)
        && Structural.Equal(Env, other.Env) && Timeout == other.Timeout;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Path, Structural.Hash(Args), Structural.Hash(Env), Timeout);
}
