using System.Text.Json;
using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>--format</c> as Docker takes it: a command's named formats (<c>table</c>, <c>json</c>), or else a Go template
/// evaluated on the JSON object the command prints for each item with <c>json</c>.
/// </summary>
internal static class FormatOption
{
    /// <summary>The template <c>--format</c> gives, or null for no format or one of <paramref name="named"/>.</summary>
    public static GoTemplate? Template(Invocation invocation, params string[] named)
    {
        var format = invocation.Value("format");
        if (format is null || named.Contains(format, StringComparer.Ordinal))
        {
            return null;
        }

        // Docker's "table TEMPLATE" prints the template's columns under headers; only plain templates are supported.
        if (format.StartsWith("table ", StringComparison.Ordinal))
        {
            throw new UsageException($"--format '{format}' is not supported: a table of a template's columns is not; give table, or the template without 'table '", invocation.Path);
        }

        return GoTemplate.Parse(format);
    }

    /// <summary>The template's output for one item, given as the JSON object its <c>json</c> format prints.</summary>
    public static string Execute(GoTemplate template, string json)
    {
        using var document = JsonDocument.Parse(json);
        return template.Execute(document.RootElement);
    }
}
