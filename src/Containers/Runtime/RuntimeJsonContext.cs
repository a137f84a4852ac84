using System.Text.Json.Serialization;

namespace Containers.Runtime;

/// <summary>Source-generated JSON for the runtime's own files: the JSON-lines output log, volumes and storage owners (<c>state.json</c> has its own reader and writer, <see cref="ContainerStateJson"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerLogRecord))]
[JsonSerializable(typeof(Volume))]
[JsonSerializable(typeof(StorageOwner))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;
