using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>The container's root filesystem (<c>root</c>): a directory on the host that becomes <c>/</c>.</summary>
/// <param name="Path">The absolute path of the root directory on the host (<c>path</c>).</param>
/// <param name="Readonly">Whether the root is mounted read-only (<c>readonly</c>).</param>
public sealed record RootSpec(string Path, [property: JsonPropertyName("readonly")] bool Readonly = false);
