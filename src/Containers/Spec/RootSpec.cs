using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>The container's root filesystem (<c>root</c>): a directory on the host that becomes <c>/</c>.</summary>
/// <param name="Path">
/// The absolute path of the root directory on the host (<c>path</c>), or null for the host rootfs (this library's
/// own convention, as a <see cref="ContainerSpec.Root"/> of null is), which <paramref name="Readonly"/> then applies to.
/// </param>
/// <param name="Readonly">Whether the root is mounted read-only (<c>readonly</c>).</param>
/// <example>
/// <code>
/// var image = new RootSpec("/srv/rootfs", Readonly: true);
/// var readOnlyHost = new RootSpec(Path: null, Readonly: true);
/// </code>
/// </example>
public sealed record RootSpec(string? Path = null, [property: JsonPropertyName("readonly")] bool Readonly = false);
