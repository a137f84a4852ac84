using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers ps [-a] [-q] [-s] [--no-trunc] [--format json|TEMPLATE]</c>: lists containers with Docker's columns,
/// running (and paused) ones unless <c>-a</c>; with <c>-s</c> each one's size too.
/// </summary>
internal static class PsCommand
{
    public static CommandSpec Create() => new("ps", "[OPTIONS]", "List containers")
    {
        MaxArguments = 0,
        Options =
        [
            OptionSpec.Flag("all", 'a', "Show all containers (default shows just running)"),
            OptionSpec.Value("format", null, "string", "table (the default), json (one object per line), or a Go template on each line's object: '{{.Names}} {{.State}}'"),
            OptionSpec.Flag("no-trunc", null, "Don't truncate output (whole ids, commands and mounts)"),
            OptionSpec.Flag("quiet", 'q', "Only display container IDs"),
            OptionSpec.Flag("size", 's', "Display total file sizes: the writable layer's, then the whole root's (N/A for a root without a layer of its own)"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation ps, CancellationToken cancellationToken)
    {
        var template = FormatOption.Template(ps, "table", "json");
        var json = ps.Value("format") == "json";
        var whole = ps.Has("no-trunc");
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
        // Counting reads every file's metadata: only when asked, with -s or a template naming .Size (Docker's rule).
        var sized = !ps.Has("quiet") && (ps.Has("size") || template?.Names("Size") == true);
        if (sized)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                rows[i] = rows[i] with { Size = await SizeAsync(runtime, rows[i].State.Id, cancellationToken).ConfigureAwait(false) };
            }
        }

        var now = DateTimeOffset.UtcNow;
        var output = Console.Out;
        if (ps.Has("quiet"))
        {
            foreach (var row in rows)
            {
                output.WriteLine(whole ? row.State.Id : row.ShortId);
            }
        }
        else if (template is not null)
        {
            foreach (var row in rows)
            {
                output.WriteLine(FormatOption.Execute(template, Json(row, now, whole)));
            }
        }
        else if (json)
        {
            foreach (var row in rows)
            {
                output.WriteLine(Json(row, now, whole));
            }
        }
        else
        {
            var table = sized
                ? new TextTable("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES", "SIZE")
                : new TextTable("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES");
            foreach (var row in rows)
            {
                string[] columns = [whole ? row.State.Id : row.ShortId, row.Image, GoQuote(whole ? row.Command : Truncate(row.Command)), row.Created(now), row.Status(now), row.State.Id];
                table.Add(sized ? [.. columns, row.Size!] : columns);
            }

            table.WriteTo(output);
        }

        return 0;
    }

    /// <summary>
    /// Docker's <c>SIZE</c>: <c>12B (virtual 4.26MB)</c>. A root with no layer of its own (the host's, a directory used
    /// in place) has no size that would mean the same, so it is <c>N/A</c>, Docker's word for a size it did not count;
    /// so is one that cannot be counted (said on stderr), and one removed since the listing.
    /// </summary>
    private static async Task<string> SizeAsync(ContainerRuntime runtime, string id, CancellationToken cancellationToken)
    {
        try
        {
            var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                return container.MeasureDiskUsage(cancellationToken) is { } usage
                    ? $"{HumanTime.Size(usage.WritableLayer)} (virtual {HumanTime.Size(usage.RootFilesystem)})"
                    : NotAvailable;
            }
        }
        catch (ContainerNotFoundException)
        {
            return NotAvailable;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"containers: the size of container '{id}' is not known: {e.Message}").ConfigureAwait(false);
            return NotAvailable;
        }
    }

    private const string NotAvailable = "N/A";

    private static readonly ContainerRuntimeOptions ListingOnly = new() { SweepOnOpen = false, NetworkNamespacePoolSize = 0, CgroupPoolSize = 0 };

    /// <summary>The command as Docker shows it, in the table and in json without <c>--no-trunc</c>: cut to 20 characters with an ellipsis.</summary>
    private static string Truncate(string command) => Ellipsis(command, 20);

    /// <summary>Docker's cut of a long value: its first <paramref name="width"/> - 1 characters and an ellipsis.</summary>
    private static string Ellipsis(string value, int width) => value.Length > width ? value[..(width - 1)] + "…" : value;

    /// <summary>
    /// The object of <c>--format json</c> and templates, with the fields and value formats of Docker's
    /// <c>docker ps --format '{{json .}}'</c>. <c>Mounts</c>: the volumes' names and the bound host paths
    /// (<see cref="ContainerRow.Describe"/>), each cut to 15 characters as Docker's. <c>Networks</c>: <c>none</c> or
    /// <c>host</c>, left out when the spec joins a network namespace by path, whose network is not known, rather than
    /// given a value that would claim a fact. <c>Size</c> only when counted (<c>-s</c>, or a template naming it).
    /// <c>Ports</c> is empty because nothing publishes ports.
    /// <paramref name="whole"/> (<c>--no-trunc</c>): the whole id, command and mounts.
    /// </summary>
    internal static string Json(ContainerRow row, DateTimeOffset now, bool whole = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            // Docker's formatter cuts the command and the id here as in its table (unless --no-trunc), and quotes the
            // command as Go's strconv.Quote does.
            json.WriteString("Command", GoQuote(whole ? row.Command : Truncate(row.Command)));
            json.WriteString("CreatedAt", HumanTime.GoTime(row.State.Created));
            json.WriteString("ID", whole ? row.State.Id : row.ShortId);
            json.WriteString("Image", row.Image);
            json.WriteString("Labels", string.Join(',', (row.State.Image?.Labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
            json.WriteString("LocalVolumes", row.State.Volumes.Count.ToString(CultureInfo.InvariantCulture));
            json.WriteString("Mounts", string.Join(',', row.Mounts.Select(m => whole ? m : Ellipsis(m, 15))));
            json.WriteString("Names", row.State.Id);
            if (row.Network is { } network)
            {
                json.WriteString("Networks", network);
            }

            json.WriteString("Ports", string.Empty);
            json.WriteString("RunningFor", HumanTime.Ago(row.State.Created, now));
            if (row.Size is { } size)
            {
                json.WriteString("Size", size);
            }

            json.WriteString("State", row.DockerStatus);
            json.WriteString("Status", row.Status(now));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A string as a Go literal (strconv.Quote): quotes, backslashes and control characters escaped.</summary>
    internal static string GoQuote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\t' => quoted.Append("\\t"),
                '\r' => quoted.Append("\\r"),
                < ' ' or '\x7f' => quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }
}
