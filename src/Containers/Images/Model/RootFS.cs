using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>The <c>rootfs</c> section of an image config.</summary>
public sealed record RootFS
{
    /// <summary>Always <c>layers</c>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    /// <summary>The sha256 of each uncompressed layer, base first.</summary>
    [JsonPropertyName("diff_ids")]
    public required IReadOnlyList<Digest> DiffIds { get; init; }
}
