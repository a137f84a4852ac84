using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// Reads and writes <see cref="NamespaceType"/> as its OCI name. An unknown name fails with a message that lists the
/// valid ones; <see cref="ContainerSpec.FromJson(string)"/> turns that into a <see cref="SpecError"/> at its path.
/// </summary>
internal sealed class NamespaceTypeJsonConverter : JsonConverter<NamespaceType>
{
    public override NamespaceType Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"must be a namespace name ({string.Join(", ", NamespaceTypeNames.All)}), got a {reader.TokenType}");
        }

        string? name = reader.GetString();
        return NamespaceTypeNames.TryParse(name, out var type)
            ? type
            : throw new JsonException($"unknown namespace type '{name}': use one of {string.Join(", ", NamespaceTypeNames.All)}");
    }

    public override void Write(Utf8JsonWriter writer, NamespaceType value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToOciName());
}
