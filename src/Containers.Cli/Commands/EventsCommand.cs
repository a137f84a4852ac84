using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers events [--filter KEY=VALUE]... [--format json|TEMPLATE] [--since WHEN] [--until WHEN]</c>: the
/// containers' events as they happen, as Docker's: one line each, <c>TIME container ACTION ID (attributes)</c>, Docker's
/// JSON, or a Go template on Docker's event message (<c>{{.Action}} {{.Actor.Attributes.name}}</c>). They come from
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
            OptionSpec.Value("format", null, "string", "The default line, json (one object per line as Docker's), or a Go template on each event: '{{.Action}} {{.Actor.Attributes.name}}'"),
            OptionSpec.Value("since", null, "string", "Show recorded events since " + TimeOption.Forms),
            OptionSpec.Value("until", null, "string", "Stream events until " + TimeOption.Forms),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation events, CancellationToken cancellationToken)
    {
        var (json, template) = ParseFormat(events);
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
                    await output.WriteLineAsync(json ? Json(e) : template is not null ? Execute(template, e) : Line(e)).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// <c>--format</c>: <c>json</c> and a template that is <c>{{json .}}</c> alone print Docker's JSON; any other template
    /// is checked on an event before anything is read, as Docker runs it on an empty message first, so a field no event
    /// has (<c>{{.Foo}}</c>) is a usage error at once rather than at the first event.
    /// </summary>
    private static (bool Json, GoTemplate? Template) ParseFormat(Invocation events)
    {
        try
        {
            var template = FormatOption.Template(events, "json");
            if (events.Value("format") == "json" || template?.IsJsonOfDot == true)
            {
                return (true, null);
            }

            if (template is not null)
            {
                Execute(template, new ContainerEvent(DateTimeOffset.UnixEpoch, "id", ContainerEventAction.Create));
            }

            return (false, template);
        }
        catch (GoTemplateException e)
        {
            throw new UsageException($"--format '{events.Value("format")}': {e.Message}", events.Path);
        }
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
            WriteActor(json, e);
            json.WriteString("scope", "local");
            json.WriteNumber("time", e.Time.ToUnixTimeSeconds());
            json.WriteNumber("timeNano", TimeNano(e));
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// A template's output for <paramref name="e"/>. Docker runs it on its typed event message, so the fields are the Go
    /// struct's names, not the JSON's: <c>Status</c>, <c>ID</c>, <c>From</c> (empty without an image, as Go's zero
    /// value), <c>Type</c>, <c>Action</c>, <c>Actor.ID</c>, <c>Actor.Attributes</c>, <c>Scope</c>, <c>Time</c>,
    /// <c>TimeNano</c>. <c>Actor.Attributes</c> is a Go map: an attribute an event lacks prints &lt;no value&gt;.
    /// </summary>
    private static string Execute(GoTemplate template, ContainerEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Status", Name(e.Action));
            json.WriteString("ID", e.Id);
            json.WriteString("From", e.Image ?? string.Empty);
            json.WriteString("Type", "container");
            json.WriteString("Action", Name(e.Action));
            WriteActor(json, e);
            json.WriteString("Scope", "local");
            json.WriteNumber("Time", e.Time.ToUnixTimeSeconds());
            json.WriteNumber("TimeNano", TimeNano(e));
            json.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return template.Execute(document.RootElement, AttributeMaps);
    }

    private static readonly HashSet<string> AttributeMaps = new(StringComparer.Ordinal) { ".Actor.Attributes" };

    private static void WriteActor(Utf8JsonWriter json, ContainerEvent e)
    {
        json.WriteStartObject("Actor");
        json.WriteString("ID", e.Id);
        json.WriteStartObject("Attributes");
        foreach (var (key, value) in Attributes(e))
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static long TimeNano(ContainerEvent e) => (e.Time - DateTimeOffset.UnixEpoch).Ticks * 100;

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
