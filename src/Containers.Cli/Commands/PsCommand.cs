using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers ps [-a] [-q] [--format json|TEMPLATE]</c>: lists containers with Docker's columns, running (and paused) ones unless <c>-a</c>.</summary>
internal static class PsCommand
{
    public static CommandSpec Create() => new("ps", "[OPTIONS]", "List containers")
    {
        MaxArguments = 0,
        Options =
        [
            OptionSpec.Flag("all", 'a', "Show all containers (default shows just running)"),
            OptionSpec.Value("format", null, "string", "table (the default), json (one object per line), or a Go template on each line's object: '{{.Names}} {{.State}}'"),
            OptionSpec.Flag("quiet", 'q', "Only display container IDs"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation ps, CancellationToken cancellationToken)
    {
        var template = FormatOption.Template(ps, "table", "json");
        var json = ps.Value("format") == "json";
        var rows = new List<ContainerRow>();
        // A listing needs no sweep at open: ListAsync removes and leaves out each leftover of a dead host it meets,
        // and the cgroups and directories such hosts left are cleared by the next command that creates a container.
        // The sweeps were a fifth of this command's CPU time.
        var runtime = await ContainerRuntime.OpenAsync(ListingOnly, cancellationToken).ConfigureAwait(false);
        foreach (var state in await runtime.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (ps.Has("all") || state.Status is ContainerStatus.Running or ContainerStatus.Paused)
            {
                if (ContainerRow.Of(state) is { } row)
                {
                    rows.Add(row);
                }
            }
        }

        // Newest first, as Docker lists them.
        rows.Reverse();
        var now = DateTimeOffset.UtcNow;
        var output = Console.Out;
        if (ps.Has("quiet"))
        {
            foreach (var row in rows)
            {
                output.WriteLine(row.ShortId);
            }
        }
        else if (template is not null)
        {
            foreach (var row in rows)
            {
                output.WriteLine(FormatOption.Execute(template, Json(row, now)));
            }
        }
        else if (json)
        {
            foreach (var row in rows)
            {
                output.WriteLine(Json(row, now));
            }
        }
        else
        {
            var table = new TextTable("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES");
            foreach (var row in rows)
            {
                table.Add(row.ShortId, row.Image, Quote(row.Command), row.Created(now), row.Status(now), row.State.Id);
            }

            table.WriteTo(output);
        }

        return 0;
    }

    private static readonly ContainerRuntimeOptions ListingOnly = new() { SweepOnOpen = false, NetworkNamespacePoolSize = 0, CgroupPoolSize = 0 };

    /// <summary>The command as Docker's table shows it: quoted, cut to 20 characters with an ellipsis.</summary>
    private static string Quote(string command) => "\"" + (command.Length > 20 ? command[..19] + "…" : command) + "\"";

    private static string Json(ContainerRow row, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("ID", row.State.Id);
            json.WriteString("Image", row.Image);
            json.WriteString("Command", row.Command);
            json.WriteString("CreatedAt", row.State.Created);
            json.WriteString("RunningFor", HumanTime.Ago(row.State.Created, now));
            json.WriteString("State", row.DockerStatus);
            json.WriteString("Status", row.Status(now));
            json.WriteString("Names", row.State.Id);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
