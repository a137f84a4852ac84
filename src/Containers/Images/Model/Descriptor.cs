using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>
/// An OCI content descriptor: what a blob is (<see cref="MediaType"/>), its <see cref="Digest"/> and its exact
/// <see cref="Size"/>. Every reference from one image document to another goes through a descriptor.
/// </summary>
public sealed record Descriptor
{
    /// <summary>The media type of the referenced content.</summary>
    [JsonPropertyName("mediaType")]
    public required string MediaType { get; init; }

    /// <summary>The digest of the referenced content.</summary>
    [JsonPropertyName("digest")]
    public required Digest Digest { get; init; }

    /// <summary>The size of the referenced content in bytes.</summary>
    [JsonPropertyName("size")]
    public required long Size { get; init; }

    /// <summary>URLs the content may be downloaded from (non-distributable layers).</summary>
    [JsonPropertyName("urls")]
    public IReadOnlyList<string>? Urls { get; init; }

    /// <summary>Arbitrary metadata; the store keeps tags in <see cref="AnnotationKeys.RefName"/>.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The platform of the referenced manifest, in an index.</summary>
    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    /// <summary>The type of an artifact, when the descriptor points to one.</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }
}
