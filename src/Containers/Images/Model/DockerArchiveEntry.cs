using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>One image of a <c>docker save</c> archive's <c>manifest.json</c>: paths inside the archive.</summary>
internal sealed record DockerArchiveEntry
{
    [JsonPropertyName("Config")]
    public required string Config { get; init; }

    [JsonPropertyName("RepoTags")]
    public IReadOnlyList<string>? RepoTags { get; init; }

    [JsonPropertyName("Layers")]
    public required IReadOnlyList<string> Layers { get; init; }
}
