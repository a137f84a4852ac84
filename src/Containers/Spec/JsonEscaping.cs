using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Containers.Spec;

/// <summary>
/// The escaping of the JSON files the runtime writes on every start (<c>state.json</c>, <c>config.json</c>, the event
/// journal): only what JSON requires, quotes, backslashes and control characters; everything else, non-ASCII text
/// included, is written as it is (valid UTF-8 JSON, read back the same by any reader).
/// </summary>
/// <remarks>
/// A <see cref="Utf8JsonWriter"/> without an encoder takes <see cref="JavaScriptEncoder.Default"/>, whose type's
/// static constructor also builds the relaxed encoder's table of every BMP code point, one by one: about a tenth of
/// a millisecond of a command-line run's critical path, before its container's clone.
/// </remarks>
internal sealed class JsonEscaping : JavaScriptEncoder
{
    /// <summary>The one instance.</summary>
    public static readonly JsonEscaping Instance = new();

    /// <summary>Writer options with this escaping.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Instance };

    private JsonEscaping()
    {
    }

    /// <inheritdoc/>
    public override int MaxOutputCharactersPerInputCharacter => 6;

    /// <inheritdoc/>
    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or '"' or '\\';

    /// <inheritdoc/>
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < textLength && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (WillEncode(c) || char.IsSurrogate(c))
            {
                // A lone surrogate is not text: the encoding path writes U+FFFD for it, as the default encoder does
                // (the writer's own transcoding would drop the whole string).
                return i;
            }
        }

        return -1;
    }

    /// <inheritdoc/>
    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        for (var i = 0; i < utf8Text.Length;)
        {
            if (utf8Text[i] < 0x80)
            {
                if (WillEncode(utf8Text[i]))
                {
                    return i;
                }

                i++;
                continue;
            }

            // Multi-byte sequences are copied when valid; an invalid one goes the encoding path (U+FFFD).
            if (Rune.DecodeFromUtf8(utf8Text[i..], out _, out var length) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }

            i += length;
        }

        return -1;
    }

    /// <inheritdoc/>
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var output = new Span<char>(buffer, bufferLength);
        if (!WillEncode(unicodeScalar))
        {
            // Called for every scalar of a string that needed escaping somewhere: the others are copied.
            return new Rune(unicodeScalar).TryEncodeToUtf16(output, out numberOfCharactersWritten);
        }

        ReadOnlySpan<char> escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            _ => $"\\u{unicodeScalar:X4}",
        };
        numberOfCharactersWritten = escaped.TryCopyTo(output) ? escaped.Length : 0;
        return numberOfCharactersWritten > 0;
    }
}
