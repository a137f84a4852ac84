using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers inspect CONTAINER...</c>: a JSON array with each container's state and its OCI config.</summary>
internal static class InspectCommand
{
    public static CommandSpec Create() => new("inspect", "[OPTIONS] CONTAINER [CONTAINER...]", "Show details of one or more containers as JSON")
    {
        MinArguments = 1,
        Options = [OptionSpec.Value("format", 'f', "string", "json (the default and only format)")],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation inspect, CancellationToken cancellationToken)
    {
        if (inspect.Value("format") is { } format && format != "json")
        {
            throw new UsageException($"--format '{format}' is not supported: only json is", inspect.Path);
        }

        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
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

        Console.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        return 0;
    }

    private static void Write(Utf8JsonWriter json, ContainerRow row, string config)
    {
        var state = row.State;
        json.WriteStartObject();
        json.WriteString("Id", state.Id);
        json.WriteString("Created", state.Created);
        json.WriteString("Path", state.Command.Count > 0 ? state.Command[0] : string.Empty);
        json.WriteStartArray("Args");
        foreach (var arg in state.Command.Skip(1))
        {
            json.WriteStringValue(arg);
        }

        json.WriteEndArray();
        json.WriteStartObject("State");
        json.WriteString("Status", state.Status.ToOciString());
        json.WriteBoolean("Running", state.Status == ContainerStatus.Running);
        json.WriteNumber("Pid", state.Pid ?? 0);
        if (state.Status == ContainerStatus.Stopped)
        {
            json.WriteNumber("ExitCode", row.ExitStatus);
        }

        if (state.Signal is { } signal)
        {
            json.WriteNumber("Signal", signal);
        }

        if (row.Started is { } started)
        {
            json.WriteString("StartedAt", started);
        }

        if (row.Finished is { } finished)
        {
            json.WriteString("FinishedAt", finished);
        }

        json.WriteEndObject();
        json.WriteString("Image", row.Image);
        json.WriteString("Bundle", state.Bundle);
        json.WriteBoolean("Init", state.Init);
        if (state.HasLog)
        {
            json.WriteString("LogPath", Path.Combine(state.Bundle, "container.log"));
        }

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
