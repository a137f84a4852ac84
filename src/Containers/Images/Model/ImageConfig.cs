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

/// <summary>The default process settings of an image config (<c>config</c> in the OCI image config).</summary>
public sealed record ContainerConfig
{
    /// <summary>The user (and group) to run as.</summary>
    [JsonPropertyName("User")]
    public string? User { get; init; }

    /// <summary>Ports the image exposes, as <c>port/proto</c> keys.</summary>
    [JsonPropertyName("ExposedPorts")]
    public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }

    /// <summary>Environment variables, <c>NAME=value</c>.</summary>
    [JsonPropertyName("Env")]
    public IReadOnlyList<string>? Env { get; init; }

    /// <summary>The entrypoint.</summary>
    [JsonPropertyName("Entrypoint")]
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>The default arguments (or command when there is no entrypoint).</summary>
    [JsonPropertyName("Cmd")]
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>Paths the image declares as volumes.</summary>
    [JsonPropertyName("Volumes")]
    public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }

    /// <summary>The working directory.</summary>
    [JsonPropertyName("WorkingDir")]
    public string? WorkingDir { get; init; }

    /// <summary>Labels.</summary>
    [JsonPropertyName("Labels")]
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>The signal that stops the container.</summary>
    [JsonPropertyName("StopSignal")]
    public string? StopSignal { get; init; }
}

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

/// <summary>One entry of an image's history.</summary>
public sealed record HistoryEntry
{
    /// <summary>When the step ran.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>The command of the step.</summary>
    [JsonPropertyName("created_by")]
    public string? CreatedBy { get; init; }

    /// <summary>Who made the step.</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>A comment.</summary>
    [JsonPropertyName("comment")]
    public string? Comment { get; init; }

    /// <summary>True when the step made no layer.</summary>
    [JsonPropertyName("empty_layer")]
    public bool? EmptyLayer { get; init; }
}

/// <summary>The empty JSON object <c>{}</c> used as a set member in image configs.</summary>
public sealed record EmptyObject;
