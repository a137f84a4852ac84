using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Containers.Cli;

/// <summary>
/// The part of Go's <c>text/template</c> that Docker users put in <c>--format</c>, evaluated on the JSON document a
/// command would print, as Docker evaluates a template on an inspect's raw JSON: field paths
/// (<c>{{.State.Status}}</c>, <c>{{.}}</c>), string and integer literals, <c>{{json .State}}</c>,
/// <c>{{index .Config.annotations "key"}}</c>, text around actions and the <c>{{-</c>/<c>-}}</c> trim markers.
/// Values print as Go prints the decoded JSON: strings raw, numbers as written, <c>[a b]</c> for arrays,
/// <c>map[k:v]</c> (keys sorted) for objects, <c>&lt;no value&gt;</c> for null and for a key <c>index</c> did not find.
/// Everything else (pipes, <c>range</c>, <c>if</c>, variables, other functions) is refused when parsed, naming the
/// part, rather than printed wrong. It walks <see cref="JsonElement"/>s, so it needs no reflection (Native AOT).
/// </summary>
internal sealed class GoTemplate
{
    private readonly IReadOnlyList<Node> _nodes;

    private GoTemplate(IReadOnlyList<Node> nodes) => _nodes = nodes;

    /// <summary>Parses <paramref name="source"/>; throws <see cref="GoTemplateException"/> for anything outside the subset.</summary>
    public static GoTemplate Parse(string source)
    {
        var nodes = new List<Node>();
        var text = new StringBuilder();
        var position = 0;
        while (position < source.Length)
        {
            var open = source.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                text.Append(source, position, source.Length - position);
                break;
            }

            text.Append(source, position, open - position);
            var start = open + 2;
            // Go's trim markers: "{{- " drops the white space before the action, " -}}" the white space after it.
            if (start + 1 < source.Length && source[start] == '-' && IsSpace(source[start + 1]))
            {
                while (text.Length > 0 && IsSpace(text[^1]))
                {
                    text.Length--;
                }

                start += 2;
            }

            if (text.Length > 0)
            {
                nodes.Add(new TextNode(text.ToString()));
                text.Clear();
            }

            var (command, end, trimAfter) = ParseAction(source, open, start);
            nodes.Add(command);
            position = end;
            if (trimAfter)
            {
                while (position < source.Length && IsSpace(source[position]))
                {
                    position++;
                }
            }
        }

        if (text.Length > 0)
        {
            nodes.Add(new TextNode(text.ToString()));
        }

        return new GoTemplate(nodes);
    }

    /// <summary>Whether an action names <c>.<paramref name="field"/></c> (or a path below it), so a command can compute a costly field only when asked for it, as Docker does.</summary>
    public bool Names(string field) =>
        _nodes.OfType<ActionNode>().SelectMany(a => a.Arguments).OfType<FieldOperand>().Any(f => f.Path.Count > 0 && f.Path[0] == field);

    /// <summary>Whether the template is <c>{{json .}}</c> alone (with any spacing): the whole document as compact JSON.</summary>
    public bool IsJsonOfDot => _nodes is [ActionNode { Function: "json", Arguments: [FieldOperand { Path.Count: 0 }] }];

    /// <summary>
    /// The template's output for <paramref name="dot"/>; throws <see cref="GoTemplateException"/> where Go's would fail.
    /// <paramref name="maps"/> names the objects (<c>.Actor.Attributes</c>) that are Go maps where Docker runs the template
    /// on a typed value rather than on raw JSON: a field path ending in a key such a map lacks prints <c>&lt;no value&gt;</c>,
    /// as Go's does, where any other missing field is an error.
    /// </summary>
    public string Execute(JsonElement dot, IReadOnlySet<string>? maps = null)
    {
        maps ??= NoMaps;
        var output = new StringBuilder();
        foreach (var node in _nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case ActionNode action:
                    var value = action.Evaluate(dot, maps);
                    // Go prints an empty interface that holds nil, a JSON null, as a missing value.
                    if (!value.Present || value.Element.ValueKind == JsonValueKind.Null)
                    {
                        output.Append(NoValue);
                    }
                    else
                    {
                        Print(output, value.Element);
                    }

                    break;
            }
        }

        return output.ToString();
    }

    private const string NoValue = "<no value>";

    private static readonly HashSet<string> NoMaps = [];

    private static readonly string[] Keywords = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "true", "false", "nil"];

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static (ActionNode Action, int End, bool TrimAfter) ParseAction(string source, int open, int position)
    {
        var tokens = new List<Token>();
        while (true)
        {
            // The right trim marker is checked before the white space it starts with is skipped, as Go's lexer does.
            if (position + 3 < source.Length && IsSpace(source[position]) && source[position + 1] == '-'
                && string.CompareOrdinal(source, position + 2, "}}", 0, 2) == 0)
            {
                return (Build(source[open..(position + 4)], tokens), position + 4, true);
            }

            if (position < source.Length && IsSpace(source[position]))
            {
                position++;
                continue;
            }

            if (position + 1 < source.Length && source[position] == '}' && source[position + 1] == '}')
            {
                return (Build(source[open..(position + 2)], tokens), position + 2, false);
            }

            if (position >= source.Length)
            {
                throw Refuse(source[open..], "the action is not closed with }}");
            }

            var (token, next) = ReadToken(source, open, position);
            if (tokens.Count > 0 && !IsSpace(source[position - 1]))
            {
                throw Refuse(ActionText(source, open), $"'{source[position..next]}' must be separated from what comes before it by a space");
            }

            tokens.Add(token);
            position = next;
        }
    }

    /// <summary>The action starting at <paramref name="open"/> as written, for error messages.</summary>
    private static string ActionText(string source, int open)
    {
        var close = source.IndexOf("}}", open, StringComparison.Ordinal);
        return close < 0 ? source[open..] : source[open..(close + 2)];
    }

    private static (Token Token, int Next) ReadToken(string source, int open, int position)
    {
        var c = source[position];
        var rest = source.Length - position;
        if (c == '.')
        {
            var end = position;
            var path = new List<string>();
            while (end < source.Length && source[end] == '.' && end + 1 < source.Length && IsIdentifierStart(source[end + 1]))
            {
                var name = end + 1;
                end = name;
                while (end < source.Length && IsIdentifierPart(source[end]))
                {
                    end++;
                }

                path.Add(source[name..end]);
            }

            if (path.Count == 0)
            {
                end = position + 1;
                if (end < source.Length && char.IsAsciiDigit(source[end]))
                {
                    throw Refuse(ActionText(source, open), "numbers other than decimal integers are not supported");
                }
            }

            return (new FieldOperand(path), end);
        }

        if (IsIdentifierStart(c))
        {
            var end = position;
            while (end < source.Length && IsIdentifierPart(source[end]))
            {
                end++;
            }

            return (new IdentifierToken(source[position..end]), end);
        }

        if (c == '"')
        {
            return ReadQuoted(source, open, position);
        }

        if (c == '`')
        {
            var close = source.IndexOf('`', position + 1);
            if (close < 0)
            {
                throw Refuse(source[open..], "the raw string is not closed with `");
            }

            // Go drops carriage returns from raw strings.
            return (new LiteralOperand(StringElement(source[(position + 1)..close].Replace("\r", string.Empty, StringComparison.Ordinal))), close + 1);
        }

        if (char.IsAsciiDigit(c) || (c is '-' or '+' && rest > 1 && (char.IsAsciiDigit(source[position + 1]) || source[position + 1] == '.')))
        {
            var end = position + 1;
            while (end < source.Length && (char.IsAsciiLetterOrDigit(source[end]) || source[end] is '_' or '.' or '+' or '-'))
            {
                end++;
            }

            var literal = source[position..end];
            if (!long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                throw Refuse(ActionText(source, open), $"the number {literal} is not supported: only decimal integers are");
            }

            return (new LiteralOperand(Element(json => json.WriteNumberValue(number))), end);
        }

        var problem = c switch
        {
            '|' => "pipelines ('|') are not supported",
            '(' or ')' => "parentheses are not supported",
            '$' => "variables ('$') are not supported",
            '/' when rest > 1 && source[position + 1] == '*' => "comments are not supported",
            '\'' => "character constants are not supported",
            ':' or '=' => "assignments are not supported",
            '}' => "the action is not closed with }}",
            _ => $"'{c}' is not supported",
        };
        throw Refuse(ActionText(source, open), problem);
    }

    private static (Token Token, int Next) ReadQuoted(string source, int open, int position)
    {
        var value = new StringBuilder();
        var i = position + 1;
        while (true)
        {
            if (i >= source.Length || source[i] == '\n')
            {
                throw Refuse(ActionText(source, open), "the quoted string is not closed with \"");
            }

            var c = source[i++];
            if (c == '"')
            {
                return (new LiteralOperand(StringElement(value.ToString())), i);
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (i >= source.Length)
            {
                throw Refuse(ActionText(source, open), "the quoted string is not closed with \"");
            }

            var escape = source[i++];
            switch (escape)
            {
                case 'a': value.Append('\a'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'n': value.Append('\n'); break;
                case 'r': value.Append('\r'); break;
                case 't': value.Append('\t'); break;
                case 'v': value.Append('\v'); break;
                case '\\': value.Append('\\'); break;
                case '"': value.Append('"'); break;
                case 'x':
                    AppendByte(value, Hex(source, open, ref i, 2), source, open);
                    break;
                case 'u':
                    AppendCodePoint(value, Hex(source, open, ref i, 4), source, open);
                    break;
                case 'U':
                    AppendCodePoint(value, Hex(source, open, ref i, 8), source, open);
                    break;
                case >= '0' and <= '7' when i + 1 < source.Length && source[i] is >= '0' and <= '7' && source[i + 1] is >= '0' and <= '7':
                    AppendByte(value, ((escape - '0') * 64) + ((source[i] - '0') * 8) + (source[i + 1] - '0'), source, open);
                    i += 2;
                    break;
                default:
                    throw Refuse(ActionText(source, open), $"the escape \\{escape} is not one of Go's");
            }
        }
    }

    private static int Hex(string source, int open, ref int i, int digits)
    {
        if (i + digits > source.Length
            || !int.TryParse(source.AsSpan(i, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw Refuse(ActionText(source, open), $"an escape needs {digits} hexadecimal digits");
        }

        i += digits;
        return code;
    }

    private static void AppendCodePoint(StringBuilder value, int code, string source, int open)
    {
        if (!Rune.IsValid(code))
        {
            throw Refuse(ActionText(source, open), $"the escape for {code:X} is not a Unicode character");
        }

        value.Append(new Rune(code).ToString());
    }

    /// <summary>Go's \xHH and \OOO are bytes: above 0x7F one alone is no UTF-8, which a string here cannot hold.</summary>
    private static void AppendByte(StringBuilder value, int code, string source, int open)
    {
        if (code > 0x7F)
        {
            throw Refuse(ActionText(source, open), "a byte escape above \\x7f is not supported: write the character or \\u");
        }

        value.Append((char)code);
    }

    private static ActionNode Build(string text, List<Token> tokens)
    {
        if (tokens.Count == 0)
        {
            throw Refuse(text, "the action is empty");
        }

        if (tokens[0] is IdentifierToken { Name: var name })
        {
            if (Keywords.Contains(name, StringComparer.Ordinal))
            {
                throw Refuse(text, $"'{name}' is not supported: a template may use fields (.State.Status), quoted strings, integers, json and index");
            }

            var arguments = new List<Operand>();
            foreach (var token in tokens.Skip(1))
            {
                arguments.Add(token as Operand
                    ?? throw Refuse(text, $"'{((IdentifierToken)token).Name}' as an argument is not supported: an argument is a field, a quoted string or an integer"));
            }

            return name switch
            {
                "json" when arguments.Count == 1 => new ActionNode(text, name, arguments),
                "json" => throw Refuse(text, $"json takes one argument, not {arguments.Count}"),
                "index" when arguments.Count >= 1 => new ActionNode(text, name, arguments),
                "index" => throw Refuse(text, "index takes the item to index and its keys"),
                _ => throw Refuse(text, $"the function '{name}' is not supported: only json and index are"),
            };
        }

        if (tokens.Count > 1)
        {
            throw Refuse(text, "a field or literal takes no arguments (only json and index are functions)");
        }

        return new ActionNode(text, null, [(Operand)tokens[0]]);
    }

    private static GoTemplateException Refuse(string action, string problem) => new($"template: {action}: {problem}");

    private static void Print(StringBuilder output, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                output.Append(element.GetString());
                break;
            case JsonValueKind.Number:
                // Docker decodes with UseNumber: a number prints as the JSON has it (no float64's 1e+06).
                output.Append(element.GetRawText());
                break;
            case JsonValueKind.True:
                output.Append("true");
                break;
            case JsonValueKind.False:
                output.Append("false");
                break;
            case JsonValueKind.Array:
                output.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    output.Append(first ? string.Empty : " ");
                    first = false;
                    Print(output, item);
                }

                output.Append(']');
                break;
            case JsonValueKind.Object:
                // Go's fmt prints a map with its keys sorted (byte order of their UTF-8, which code point order is).
                output.Append("map[");
                var properties = element.EnumerateObject().ToList();
                properties.Sort((a, b) => CompareCodePoints(a.Name, b.Name));
                for (var i = 0; i < properties.Count; i++)
                {
                    output.Append(i == 0 ? string.Empty : " ").Append(properties[i].Name).Append(':');
                    Print(output, properties[i].Value);
                }

                output.Append(']');
                break;
            default:
                // A null inside an array or object: fmt's nil interface.
                output.Append("<nil>");
                break;
        }
    }

    private static int CompareCodePoints(string a, string b)
    {
        var left = a.EnumerateRunes();
        var right = b.EnumerateRunes();
        while (true)
        {
            var hasLeft = left.MoveNext();
            var hasRight = right.MoveNext();
            if (!hasLeft || !hasRight)
            {
                return hasLeft.CompareTo(hasRight);
            }

            var order = left.Current.Value.CompareTo(right.Current.Value);
            if (order != 0)
            {
                return order;
            }
        }
    }

    private static JsonElement StringElement(string value) => Element(json => json.WriteStringValue(value));

    private static JsonElement Element(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    /// <summary>A value while the template runs: an element, or Go's missing value (a key <c>index</c> did not find).</summary>
    private readonly record struct Value(JsonElement Element, bool Present)
    {
        public static Value Missing => default;
    }

    private abstract record Node;

    private sealed record TextNode(string Text) : Node;

    private sealed record ActionNode(string Text, string? Function, IReadOnlyList<Operand> Arguments) : Node
    {
        public Value Evaluate(JsonElement dot, IReadOnlySet<string> maps) => Function switch
        {
            null => Arguments[0].Evaluate(Text, dot, maps),
            "json" => new Value(Json(Arguments[0].Evaluate(Text, dot, maps)), true),
            _ => Index(dot, maps),
        };

        private static JsonElement Json(Value value)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                if (value.Present)
                {
                    value.Element.WriteTo(json);
                }
                else
                {
                    json.WriteNullValue();
                }
            }

            return StringElement(Encoding.UTF8.GetString(buffer.ToArray()));
        }

        private Value Index(JsonElement dot, IReadOnlySet<string> maps)
        {
            var item = Arguments[0].Evaluate(Text, dot, maps);
            foreach (var argument in Arguments.Skip(1))
            {
                var key = argument.Evaluate(Text, dot, maps);
                if (!item.Present || item.Element.ValueKind == JsonValueKind.Null)
                {
                    throw Refuse(Text, "index of untyped nil");
                }

                var element = item.Element;
                switch (element.ValueKind)
                {
                    case JsonValueKind.Object:
                        if (!key.Present || key.Element.ValueKind != JsonValueKind.String)
                        {
                            throw Refuse(Text, $"an object's key must be a string, not {Kind(key)}");
                        }

                        item = element.TryGetProperty(key.Element.GetString()!, out var found) ? new Value(found, true) : Value.Missing;
                        break;
                    case JsonValueKind.Array:
                        var at = Position(key, element.GetArrayLength());
                        item = new Value(element[at], true);
                        break;
                    case JsonValueKind.String:
                        // Go indexes a string's bytes and gives the byte (a uint8).
                        var bytes = Encoding.UTF8.GetBytes(element.GetString()!);
                        var b = bytes[Position(key, bytes.Length)];
                        item = new Value(Element(json => json.WriteNumberValue(b)), true);
                        break;
                    default:
                        throw Refuse(Text, $"can't index item of type {Kind(item)}");
                }
            }

            return item;
        }

        private int Position(Value key, int length)
        {
            if (!key.Present || key.Element.ValueKind != JsonValueKind.Number || !key.Element.TryGetInt64(out var at))
            {
                throw Refuse(Text, $"an array or string is indexed by an integer, not {Kind(key)}");
            }

            if (at < 0 || at >= length)
            {
                throw Refuse(Text, $"index out of range: {at.ToString(CultureInfo.InvariantCulture)}");
            }

            return (int)at;
        }
    }

    private static string Kind(Value value) => !value.Present ? "no value" : value.Element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a bool",
        _ => "null",
    };

    private abstract record Token;

    private sealed record IdentifierToken(string Name) : Token;

    private abstract record Operand : Token
    {
        public abstract Value Evaluate(string action, JsonElement dot, IReadOnlySet<string> maps);
    }

    private sealed record LiteralOperand(JsonElement Literal) : Operand
    {
        public override Value Evaluate(string action, JsonElement dot, IReadOnlySet<string> maps) => new(Literal, true);
    }

    /// <summary><c>.</c> (an empty path) or <c>.A.B</c>.</summary>
    private sealed record FieldOperand(IReadOnlyList<string> Path) : Operand
    {
        public override Value Evaluate(string action, JsonElement dot, IReadOnlySet<string> maps)
        {
            var current = dot;
            var walked = string.Empty;
            for (var step = 0; step < Path.Count; step++)
            {
                var name = Path[step];
                switch (current.ValueKind)
                {
                    case JsonValueKind.Object:
                        // A Go map's missing key is Go's missing value (printed <no value>) when the path ends there.
                        if (step == Path.Count - 1 && maps.Contains(walked) && !current.TryGetProperty(name, out _))
                        {
                            return Value.Missing;
                        }

                        // As Docker's raw fallback (missingkey=error): a field that is not there is an error, not a blank.
                        if (!current.TryGetProperty(name, out current))
                        {
                            throw Refuse(action, $"{(walked.Length == 0 ? "the document" : walked)} has no field {name}");
                        }

                        break;
                    case JsonValueKind.Null:
                        throw Refuse(action, $"{walked} is null: it has no field {name}");
                    default:
                        throw Refuse(action, $"{walked} is {Kind(new Value(current, true))}: it has no field {name}");
                }

                walked += "." + name;
            }

            return new Value(current, true);
        }
    }
}

/// <summary>A <c>--format</c> template outside the supported part of Go's, or one that fails on a document.</summary>
internal sealed class GoTemplateException : ContainersException
{
    public GoTemplateException(string message)
        : base(message)
    {
    }
}
