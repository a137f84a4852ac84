using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Runtime;

/// <summary>Source-generated JSON for the runtime's own files: <c>state.json</c> and the JSON-lines output log.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(StatusConverter)])]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(ContainerLogRecord))]
[JsonSerializable(typeof(ContainerImage))]
[JsonSerializable(typeof(Volume))]
[JsonSerializable(typeof(StorageOwner))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext
{
    /// <summary>Writes statuses as the OCI runtime specification does: <c>"created"</c>, <c>"running"</c>, …</summary>
    internal sealed class StatusConverter() : JsonStringEnumConverter<ContainerStatus>(JsonNamingPolicy.CamelCase);
}
