using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>--log-opt KEY=VALUE</c> of <c>run -d</c> and <c>create</c>: Docker's <c>json-file</c> options <c>max-size</c>
/// (<c>10m</c>) and <c>max-file</c> (<c>3</c>); any other key is refused, so no setting is dropped.
/// </summary>
internal static class LogOptions
{
    public static OptionSpec Option { get; } =
        OptionSpec.Value("log-opt", null, "list", "Log rotation of a detached container: max-size=SIZE (default 10m), max-file=N (default 3)");

    /// <summary>The log options <paramref name="invocation"/> gives, on top of the defaults.</summary>
    public static ContainerLogOptions Parse(Invocation invocation)
    {
        var options = ContainerLogOptions.Default;
        foreach (var value in invocation.Values("log-opt"))
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            var (key, text) = equals < 0 ? (value, "") : (value[..equals], value[(equals + 1)..]);
            options = key switch
            {
                "max-size" => options with { MaxSize = ResourceOptions.Bytes(invocation, "log-opt max-size", text) },
                "max-file" when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var files) => options with { MaxFiles = files },
                "max-file" => throw new UsageException($"--log-opt '{value}': max-file takes a whole number of files (1 or more)", invocation.Path),
                _ => throw new UsageException($"--log-opt '{value}': unknown log option '{key}' (supported: max-size, max-file)", invocation.Path),
            };
        }

        options.Validate();
        return options;
    }
}
