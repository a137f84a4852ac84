using System.Buffers;
using System.Text;
using System.Text.Json;
using Containers.Spec;

namespace Containers.Tests.Spec;

/// <summary><see cref="JsonEscaping"/>: what the runtime's JSON files escape, and that every string reads back as written.</summary>
public sealed class JsonEscapingTests
{
    [Theory]
    [InlineData("plain /usr/bin/true", "\"plain /usr/bin/true\"")]
    [InlineData("say \"hi\" \\ bye", "\"say \\\"hi\\\" \\\\ bye\"")]
    [InlineData("line\nnext\ttab\rcr\bbs\ffeed", "\"line\\nnext\\ttab\\rcr\\bbs\\ffeed\"")]
    [InlineData("nul\u0000 esc\u001b del\u007f", "\"nul\\u0000 esc\\u001B del\u007f\"")]
    [InlineData("<é> & 'x' + `y` 日本 🙂", "\"<é> & 'x' + `y` 日本 🙂\"")]
    public void Only_quotes_backslashes_and_control_characters_are_escaped(string value, string expected)
    {
        Assert.Equal(expected, Write(w => w.WriteStringValue(value)));
        Assert.Equal(expected, Write(w => w.WriteStringValue(Encoding.UTF8.GetBytes(value))));
    }

    [Fact]
    public void Invalid_utf8_is_written_as_the_replacement_character_not_copied_into_the_json()
    {
        Assert.Equal("\"a\ufffdb\u00e9\"", Write(w => w.WriteStringValue(new byte[] { 0x61, 0xff, 0x62, 0xc3, 0xa9 })));
    }

    [Fact]
    public void Every_string_reads_back_as_it_was_written_property_names_included()
    {
        var samples = new[] { "", "a\"b", "\\", "\u0001\u001f", "x\ny", "é€🙂", "\ud800 lone", "<script>&amp;", new string('"', 40) + "tail" };
        foreach (var value in samples)
        {
            var json = Write(w =>
            {
                w.WriteStartObject();
                w.WriteString(value, value);
                w.WriteEndObject();
            });

            using var document = JsonDocument.Parse(json);
            var property = Assert.Single(document.RootElement.EnumerateObject());
            // A lone surrogate is not text: it is written as U+FFFD, as every encoder writes it.
            var readable = value.Replace("\ud800", "\ufffd", StringComparison.Ordinal);
            Assert.Equal(readable, property.Name);
            Assert.Equal(readable, property.Value.GetString());
        }
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonEscaping.WriterOptions))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
