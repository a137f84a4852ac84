using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>
/// An OCI image config (the Docker image config has the same fields): the platform, the default process settings,
/// the layers' diff ids and the history.
/// </summary>
public sealed record ImageConfig
{
    /// <summary>When the image was created.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>Who created the image.</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>The CPU architecture.</summary>
    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    /// <summary>The operating system.</summary>
    [JsonPropertyName("os")]
    public required string OS { get; init; }

    /// <summary>The CPU variant.</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    /// <summary>The default settings of a container made from the image.</summary>
    [JsonPropertyName("config")]
    public ContainerConfig? Config { get; init; }

    /// <summary>The diff ids of the layers, base first.</summary>
    [JsonPropertyName("rootfs")]
    public required RootFS RootFS { get; init; }

    /// <summary>How each layer was made.</summary>
    [JsonPropertyName("history")]
    public IReadOnlyList<HistoryEntry>? History { get; init; }

    /// <summary>The platform this config describes.</summary>
    [JsonIgnore]
    public Platform Platform => new() { OS = OS, Architecture = Architecture, Variant = Variant };
}
