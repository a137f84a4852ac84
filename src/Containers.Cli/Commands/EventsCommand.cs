using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers events [--filter KEY=VALUE]... [--format json] [--since WHEN] [--until WHEN]</c>: the containers'
/// events as they happen, as Docker's: one line each, <c>TIME container ACTION ID (attributes)</c>. They come from
/// the state directory's journal that every process acting on a container writes
/// (<see cref="ContainerRuntime.WatchEventsAsync"/>), so a container another command started or killed shows too.
/// </summary>
internal static class EventsCommand
{
    private static readonly string[] FilterKeys = ["container", "event", "image", "type"];

    public static CommandSpec Create() => new("events", "[OPTIONS]", "Get real time events from the containers")
    {
        MaxArguments = 0,
        Options =
        [
            OptionSpec.Value("filter", 'f', "filter", "Filter output: container=ID, event=ACTION, image=REF, type=container (repeatable)"),
            OptionSpec.Value("format", null, "string", "The default line, or json (also '{{json .}}'): one object per line as Docker's"),
            OptionSpec.Value("since", null, "string", "Show recorded events since " + TimeOption.Forms),
            OptionSpec.Value("until", null, "string", "Stream events until " + TimeOption.Forms),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation events, CancellationToken cancellationToken)
    {
        var json = events.Value("format") switch
        {
            null => false,
            "json" or "{{json .}}" => true,
            var other => throw new UsageException($"--format '{other}' is not supported: use json (or '{{{{json .}}}}'), or leave it out for Docker's line", events.Path),
        };
        var filters = ParseFilters(events);
        var since = events.Value("since") is { } from ? TimeOption.Parse(from, "since", events.Path) : (DateTimeOffset?)null;
        var until = events.Value("until") is { } to ? TimeOption.Parse(to, "until", events.Path) : (DateTimeOffset?)null;
        if (since > until)
        {
            throw new UsageException("--since is after --until: no event can be in between", events.Path);
        }

        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (runtime.ConfigureAwait(false))
        {
            var output = Console.Out;
            await foreach (var e in runtime.WatchEventsAsync(since, until, cancellationToken).ConfigureAwait(false))
            {
                if (Matches(e, filters))
                {
                    await output.WriteLineAsync(json ? Json(e) : Line(e)).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return 0;
    }

    /// <summary>The filters by key; values of one key match any of them (Docker's OR), different keys all must (AND).</summary>
    private static Dictionary<string, HashSet<string>> ParseFilters(Invocation events)
    {
        var filters = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var filter in events.Values("filter"))
        {
            var equals = filter.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? filter[..equals] : filter;
            var value = equals > 0 ? filter[(equals + 1)..] : "";
            if (!FilterKeys.Contains(key))
            {
                throw new UsageException($"--filter '{filter}' is not supported: use container=ID, event=ACTION, image=REF or type=container", events.Path);
            }

            if (value.Length == 0)
            {
                throw new UsageException($"--filter '{filter}': give a value, as in {key}=…", events.Path);
            }

            if (key == "event" && ParseAction(value) is null)
            {
                throw new UsageException(
                    $"--filter '{filter}': no such event; containers record {string.Join(", ", Enum.GetValues<ContainerEventAction>().Select(Name))}", events.Path);
            }

            if (key == "type" && value != "container")
            {
                throw new UsageException($"--filter '{filter}': only container events are recorded (type=container)", events.Path);
            }

            if (!filters.TryGetValue(key, out var values))
            {
                filters[key] = values = new HashSet<string>(StringComparer.Ordinal);
            }

            values.Add(value);
        }

        return filters;
    }

    private static bool Matches(ContainerEvent e, Dictionary<string, HashSet<string>> filters) =>
        (!filters.TryGetValue("container", out var ids) || ids.Contains(e.Id))
        && (!filters.TryGetValue("event", out var actions) || actions.Contains(Name(e.Action)))
        && (!filters.TryGetValue("image", out var images) || (e.Image is { } image && images.Contains(image)));

    /// <summary>Docker's line: <c>2024-05-01T10:00:00.1234567+00:00 container die ID (exitCode=0, image=busybox, name=ID)</c>.</summary>
    private static string Line(ContainerEvent e)
    {
        var attributes = string.Join(", ", Attributes(e).Select(a => $"{a.Key}={a.Value}"));
        return string.Create(CultureInfo.InvariantCulture, $"{e.Time.ToLocalTime():yyyy-MM-ddTHH:mm:ss.fffffffzzz} container {Name(e.Action)} {e.Id} ({attributes})");
    }

    /// <summary>Docker's JSON message: <c>status</c>, <c>id</c>, <c>from</c>, <c>Type</c>, <c>Action</c>, <c>Actor</c>, <c>scope</c>, <c>time</c>, <c>timeNano</c>.</summary>
    private static string Json(ContainerEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("status", Name(e.Action));
            json.WriteString("id", e.Id);
            if (e.Image is { } image)
            {
                json.WriteString("from", image);
            }

            json.WriteString("Type", "container");
            json.WriteString("Action", Name(e.Action));
            json.WriteStartObject("Actor");
            json.WriteString("ID", e.Id);
            json.WriteStartObject("Attributes");
            foreach (var (key, value) in Attributes(e))
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteString("scope", "local");
            json.WriteNumber("time", e.Time.ToUnixTimeSeconds());
            json.WriteNumber("timeNano", (e.Time - DateTimeOffset.UnixEpoch).Ticks * 100);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The event's attributes in Docker's order (sorted by key); a die's exit code as a shell reports it (137 for SIGKILL).</summary>
    private static SortedDictionary<string, string> Attributes(ContainerEvent e)
    {
        var attributes = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["name"] = e.Id };
        if (e.Image is { } image)
        {
            attributes["image"] = image;
        }

        if (e.Action == ContainerEventAction.Die && !e.ExitStatusKnown)
        {
            // Its owner was killed before it saw the end: 255 as containerd reports an exit status it cannot know, and
            // an attribute that says so.
            attributes["exitCode"] = "255";
            attributes["exitStatus"] = "unknown";
        }
        else if (e.Action == ContainerEventAction.Die)
        {
            attributes["exitCode"] = new ContainerExit(e.ExitCode, e.Signal).ShellStatus.ToString(CultureInfo.InvariantCulture);
        }
        else if (e.Signal is { } signal)
        {
            attributes["signal"] = signal.ToString(CultureInfo.InvariantCulture);
        }

        if (e.OomKills is { } kills)
        {
            attributes["oomKills"] = kills.ToString(CultureInfo.InvariantCulture);
        }

        return attributes;
    }

    private static string Name(ContainerEventAction action) => action.ToString().ToLowerInvariant();

    private static ContainerEventAction? ParseAction(string name) =>
        Enum.GetValues<ContainerEventAction>().Cast<ContainerEventAction?>().FirstOrDefault(a => Name(a!.Value) == name);
}
