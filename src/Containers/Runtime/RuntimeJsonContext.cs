using System.Text.Json.Serialization;

namespace Containers.Runtime;

/// <summary>Source-generated JSON for the JSON-lines output log (<c>state.json</c> is <see cref="ContainerStateJson"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerLogRecord))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;
