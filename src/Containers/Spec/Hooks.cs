using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// Programs the runtime runs at points of the container's lifecycle (<c>hooks</c>), each list in order.
/// This runtime does not run hooks yet: <see cref="ContainerSpec.Validate"/> rejects a spec that sets any.
/// </summary>
public sealed record Hooks
{
    /// <summary>Run in the runtime's namespaces after create, before <c>pivot_root</c> (<c>prestart</c>, deprecated by OCI).</summary>
    public ImmutableArray<Hook> Prestart { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Run in the runtime's namespaces after the container's namespaces exist (<c>createRuntime</c>).</summary>
    public ImmutableArray<Hook> CreateRuntime { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Run in the container's namespaces before <c>pivot_root</c> (<c>createContainer</c>).</summary>
    public ImmutableArray<Hook> CreateContainer { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Run in the container's namespaces right before the program starts (<c>startContainer</c>).</summary>
    public ImmutableArray<Hook> StartContainer { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Run in the runtime's namespaces after the program started (<c>poststart</c>).</summary>
    public ImmutableArray<Hook> Poststart { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Run in the runtime's namespaces after the container was deleted (<c>poststop</c>).</summary>
    public ImmutableArray<Hook> Poststop { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether every list has the same hooks in the same order.</summary>
    public bool Equals(Hooks? other) =>
        other is not null && Structural.Equal(Prestart, other.Prestart) && Structural.Equal(CreateRuntime, other.CreateRuntime)
        && Structural.Equal(CreateContainer, other.CreateContainer) && Structural.Equal(StartContainer, other.StartContainer)
        && Structural.Equal(Poststart, other.Poststart) && Structural.Equal(Poststop, other.Poststop);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        Structural.Hash(Prestart), Structural.Hash(CreateRuntime), Structural.Hash(CreateContainer),
        Structural.Hash(StartContainer), Structural.Hash(Poststart), Structural.Hash(Poststop));
}
