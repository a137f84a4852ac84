using System.Text;

namespace Containers.Distribution.Auth;

/// <summary>
/// A <c>WWW-Authenticate</c> challenge (RFC 7235): <c>Basic realm="…"</c>, or
/// <c>Bearer realm="https://auth…/token",service="registry…",scope="repository:app:pull"</c> as the distribution
/// token specification uses it.
/// </summary>
/// <param name="Scheme">The scheme, lowercase: <c>basic</c> or <c>bearer</c>.</param>
/// <param name="Parameters">The auth parameters, names lowercase.</param>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme == "bearer";

    public bool IsBasic => Scheme == "basic";

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    /// <summary>The scopes the challenge asks for (space separated in the <c>scope</c> parameter).</summary>
    public IReadOnlyList<string> Scopes => Parameters.TryGetValue("scope", out var scope) ? scope.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];

    /// <summary>
    /// Parses the parameters of one challenge: comma-separated <c>name=value</c> pairs whose value is a token or a
    /// quoted string (which may hold commas, as scopes do). Returns null for malformed input.
    /// </summary>
    public static AuthChallenge? Parse(string scheme, string? parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string text = parameters ?? string.Empty;
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }

            if (i == text.Length)
            {
                break;
            }

            int equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                return null;
            }

            string name = text[i..equals].Trim().ToLowerInvariant();
            i = equals + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    builder.Append(text[i]);
                    i++;
                }

                if (i == text.Length)
                {
                    return null;
                }

                i++;
                value = builder.ToString();
            }
            else
            {
                int end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            if (name.Length == 0)
            {
                return null;
            }

            result[name] = value;
        }

        return new AuthChallenge(scheme.ToLowerInvariant(), result);
    }
}
