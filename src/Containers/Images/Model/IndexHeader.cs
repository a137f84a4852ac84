using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>The fields of an image index besides <c>manifests</c>, read on their own so one bad entry spoils nothing else.</summary>
internal sealed record IndexHeader
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}
