using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>The default process settings of an image config (<c>config</c> in the OCI image config).</summary>
public sealed record ContainerConfig
{
    /// <summary>The user (and group) to run as.</summary>
    [JsonPropertyName("User")]
    public string? User { get; init; }

    /// <summary>Ports the image exposes, as <c>port/proto</c> (in JSON the keys of an object of empty objects).</summary>
    [JsonPropertyName("ExposedPorts")]
    [JsonConverter(typeof(KeySetJsonConverter))]
    public IReadOnlyList<string>? ExposedPorts { get; init; }

    /// <summary>Environment variables, <c>NAME=value</c>.</summary>
    [JsonPropertyName("Env")]
    public IReadOnlyList<string>? Env { get; init; }

    /// <summary>The entrypoint.</summary>
    [JsonPropertyName("Entrypoint")]
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>The default arguments (or command when there is no entrypoint).</summary>
    [JsonPropertyName("Cmd")]
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>Paths the image declares as volumes (in JSON the keys of an object of empty objects).</summary>
    [JsonPropertyName("Volumes")]
    [JsonConverter(typeof(KeySetJsonConverter))]
    public IReadOnlyList<string>? Volumes { get; init; }

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
