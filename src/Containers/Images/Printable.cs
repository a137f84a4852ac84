using System.Globalization;
using System.Text;

namespace Containers.Images;

/// <summary>
/// Makes text from untrusted input (archive entry names, JSON strings, references) safe to print: control characters
/// (C0, DEL, C1) and the Unicode format characters that reorder or hide text become visible escapes such as
/// <c>\x1b</c>, so an error message cannot move a terminal's cursor, change its colours or hide part of itself.
/// </summary>
internal static class Printable
{
    /// <summary>Returns <paramref name="text"/> with every non-printable character escaped; a backslash stays as it is.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = IndexOfUnsafe(text);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (!IsUnsafe(c))
            {
                builder.Append(c);
            }
            else if (c <= 0xff)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        return builder.ToString();
    }

    private static int IndexOfUnsafe(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Controls, bidirectional overrides and other invisible format characters, and lone surrogates.</summary>
    private static bool IsUnsafe(char c) =>
        char.IsControl(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format
        || c is '\u2028' or '\u2029';
}
