using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>Reads and writes a <see cref="Digest"/> as its string form, rejecting malformed digests while parsing.</summary>
internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    /// <inheritdoc />
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("a digest must be a string");
        }

        try
        {
            return Digest.Parse(reader.GetString()!);
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
