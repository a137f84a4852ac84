using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>
/// Reads and writes the image config's sets (<c>"ExposedPorts": {"80/tcp": {}}</c>, <c>"Volumes"</c>): a JSON object
/// whose keys are the members and whose values are empty objects, as a list of the keys in document order.
/// </summary>
internal sealed class KeySetJsonConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a set must be a JSON object whose keys are its members");
        }

        var keys = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            keys.Add(reader.GetString()!);
            reader.Read();

            // The values carry nothing (the spec says {}); anything else is skipped rather than misread.
            reader.Skip();
        }

        return keys;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var key in value)
        {
            writer.WriteStartObject(key);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
