using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers inspect CONTAINER...</c>: a JSON array with each container's state and its OCI config, or with
/// <c>--format TEMPLATE</c> one line per container, the template evaluated on that container's object.
/// </summary>
internal static class InspectCommand
{
    public static CommandSpec Create() => new("inspect", "[OPTIONS] CONTAINER [CONTAINER...]", "Show details of one or more containers as JSON")
    {
        MinArguments = 1,
        Options = [OptionSpec.Value("format", 'f', "string", "json (the default), or a Go template on each container's object: '{{.State.Status}}', '{{json .State}}', '{{index .Config.annotations \"key\"}}'")],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation inspect, CancellationToken cancellationToken)
    {
        // Parsed before anything is read, so a template outside the supported part fails alone.
        var template = FormatOption.Template(inspect, "json");
        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = template is null, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var id in inspect.Arguments)
            {
                var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
                await using (container.ConfigureAwait(false))
                {
                    var row = ContainerRow.Of(container.Info)
                        ?? throw new ContainerNotFoundException(id, runtime.StateDirectory);
                    Write(json, row, container.Spec.ToJson());
                }
            }

            json.WriteEndArray();
        }

        if (template is null)
        {
            Console.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
            return 0;
        }

        // Every line is made before one is printed: a template that fails on one container prints nothing.
        using var document = JsonDocument.Parse(buffer.ToArray());
        var lines = new StringBuilder();
        foreach (var container in document.RootElement.EnumerateArray())
        {
            lines.Append(template.Execute(container)).Append('\n');
        }

        Console.Out.Write(lines.ToString());
        return 0;
    }

    /// <summary>Go's zero time, which Docker writes for a time that has not happened.</summary>
    private const string NotApplicable = "0001-01-01T00:00:00Z";

    /// <summary>A time as Docker writes one (Go's RFC 3339 with nanoseconds: UTC, trailing zeros of the fraction dropped).</summary>
    internal static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.') + "Z";

    private static void Write(Utf8JsonWriter json, ContainerRow row, string config)
    {
        var state = row.State;
        json.WriteStartObject();
        json.WriteString("Id", state.Id);
        json.WriteString("Created", Rfc3339(state.Created));
        json.WriteString("Path", state.Command.Count > 0 ? state.Command[0] : string.Empty);
        json.WriteStartArray("Args");
        foreach (var arg in state.Command.Skip(1))
        {
            json.WriteStringValue(arg);
        }

        json.WriteEndArray();
        // Docker's State. OOMKilled and Error are left out: the state records neither, and a false or an empty
        // string would claim what nobody knows. Restarting and Dead are false by construction: there are no restart
        // policies and no dead state.
        json.WriteStartObject("State");
        json.WriteString("Status", row.DockerStatus);
        json.WriteBoolean("Running", state.Status is ContainerStatus.Running or ContainerStatus.Paused);
        json.WriteBoolean("Paused", state.Status == ContainerStatus.Paused);
        json.WriteBoolean("Restarting", false);
        json.WriteBoolean("Dead", false);
        json.WriteNumber("Pid", state.Pid ?? 0);
        json.WriteNumber("ExitCode", state.Status == ContainerStatus.Stopped ? row.ExitStatus : 0);
        if (state.Signal is { } signal)
        {
            json.WriteNumber("Signal", signal);
        }

        // A created container's process exists but has not begun the user's program: Docker's "never started".
        var started = state.Status is ContainerStatus.Created or ContainerStatus.Creating ? null : row.Started;
        json.WriteString("StartedAt", started is { } s ? Rfc3339(s) : NotApplicable);
        json.WriteString("FinishedAt", row.Finished is { } finished ? Rfc3339(finished) : NotApplicable);
        json.WriteEndObject();
        json.WriteString("Image", row.Image);
        json.WriteString("Bundle", state.Bundle);
        json.WriteBoolean("Init", state.Init);
        if (state.HasLog)
        {
            json.WriteString("LogPath", Path.Combine(state.Bundle, "container.log"));
        }

        // A container's name is its id ('ps' shows it as Names); Docker writes it with a leading slash.
        json.WriteString("Name", "/" + state.Id);

        if (state.Log is { } log)
        {
            // Docker's shape: the driver and its options as strings.
            json.WriteStartObject("HostConfig");
            json.WriteStartObject("LogConfig");
            json.WriteString("Type", "json-file");
            json.WriteStartObject("Config");
            json.WriteString("max-size", log.MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("max-file", log.MaxFiles.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WritePropertyName("Config");
        using (var document = JsonDocument.Parse(config))
        {
            document.WriteTo(json);
        }

        json.WriteEndObject();
    }
}
