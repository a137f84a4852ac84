using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary>
/// <c>containers events</c>: the events every command records, seen by another command. Other tests' containers
/// share the state directory, so each test filters on its own container's name.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class EventsCliTests
{
    [ScaledFact(180_000)]
    public async Task A_follower_sees_a_detached_container_that_other_commands_start_pause_kill_and_remove()
    {
        Requires.Root();
        Assert.SkipWhen(Containers.Cgroups.CgroupDriver.DetectLayout() is null, "needs cgroups (this host mounts none)");
        var name = "cli-events-" + Guid.NewGuid().ToString("N")[..8];
        // From a time before the first command: the follower replays what it did not see yet, so it need not be
        // ready before the commands run.
        var since = Since();
        using var follower = Process.Start(CliRunner.StartInfo("events", "--since", since, "--filter", $"container={name}"))!;
        try
        {
            var run = await CliRunner.RunAsync("run", "--host-rootfs", "-d", "--name", name, "-m", "64m", "--", "/bin/sleep", "600");
            Assert.True(run.ExitCode == 0, run.Stderr);
            foreach (var command in new[] { "pause", "unpause", "kill" })
            {
                var result = await CliRunner.RunAsync(command, name);
                Assert.True(result.ExitCode == 0, $"{command}: {result.Stderr}");
            }

            var lines = await ReadUntilAsync(follower, name, "die");
            var rm = await CliRunner.RunAsync("rm", name);
            Assert.True(rm.ExitCode == 0, rm.Stderr);
            lines.AddRange(await ReadUntilAsync(follower, name, "destroy"));

            Assert.Equal(["create", "start", "pause", "unpause", "kill", "die", "destroy"], lines.Select(l => Parse(l, name).Action));
            Assert.Equal("name=" + name + ", signal=9", Parse(lines[4], name).Attributes);
            Assert.Equal("exitCode=137, name=" + name, Parse(lines[5], name).Attributes);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
            follower.Kill();
            await follower.WaitForExitAsync(CancellationToken.None);
        }
    }

    [ScaledFact(120_000)]
    public async Task Since_and_until_replay_a_finished_runs_events_as_lines_and_as_Dockers_json_and_end()
    {
        var name = "cli-events-" + Guid.NewGuid().ToString("N")[..8];
        var since = Since();
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "--name", name, "--", "/bin/sh", "-c", "exit 3");
        Assert.Equal(3, run.ExitCode);
        var until = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

        var lines = await CliRunner.RunAsync("events", "--since", since, "--until", until, "--filter", $"container={name}");
        var json = await CliRunner.RunAsync("events", "--since", since, "--until", until, "--filter", $"container={name}", "--format", "{{json .}}");
        var dies = await CliRunner.RunAsync("events", "--since", since, "--until", until, "--filter", $"container={name}", "--filter", "event=die", "--filter", "type=container");

        Assert.True(lines.ExitCode == 0, lines.Stderr);
        var events = lines.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Parse(l, name)).ToList();
        Assert.Equal(["create", "start", "die", "destroy"], events.Select(e => e.Action));
        Assert.Equal("exitCode=3, name=" + name, events[2].Attributes);
        Assert.All(events, e => Assert.InRange(e.Time, DateTimeOffset.Parse(since, CultureInfo.InvariantCulture), DateTimeOffset.Parse(until, CultureInfo.InvariantCulture)));

        Assert.True(json.ExitCode == 0, json.Stderr);
        var objects = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["create", "start", "die", "destroy"], objects.Select(o => o.GetProperty("Action").GetString()));
        Assert.All(objects, o => Assert.Equal((name, "container", name), (o.GetProperty("id").GetString(), o.GetProperty("Type").GetString(), o.GetProperty("Actor").GetProperty("ID").GetString())));
        Assert.Equal("3", objects[2].GetProperty("Actor").GetProperty("Attributes").GetProperty("exitCode").GetString());

        Assert.True(dies.ExitCode == 0, dies.Stderr);
        Assert.Equal("die", Parse(Assert.Single(dies.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)), name).Action);
    }

    [ScaledFact(120_000)]
    public async Task Format_templates_run_on_Dockers_event_message_for_each_replayed_event()
    {
        var name = "cli-events-" + Guid.NewGuid().ToString("N")[..8];
        var since = Since();
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "--name", name, "--", "/bin/sh", "-c", "exit 3");
        Assert.Equal(3, run.ExitCode);
        var until = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

        async Task<string[]> EventsAsync(string format)
        {
            var (exitCode, stdout, stderr) = await CliRunner.RunAsync("events", "--since", since, "--until", until, "--filter", $"container={name}", "--format", format);
            Assert.True(exitCode == 0, stderr);
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        var names = await EventsAsync("{{.Action}} {{.Actor.Attributes.name}}");
        var types = await EventsAsync("{{.Type}}");
        // Attributes is a Go map in Docker's message: an attribute an event lacks prints <no value>, as there.
        var exits = await EventsAsync("{{.Action}}={{.Actor.Attributes.exitCode}}");
        // The Go struct's other fields, by their Go names, as Docker's templates see them.
        var fields = await EventsAsync("{{.Status}} {{.ID}} [{{.From}}] {{.Scope}} {{json .Actor}}");
        var times = await EventsAsync("{{.Time}} {{.TimeNano}}");
        var json = await EventsAsync("{{ json . }}");

        Assert.Equal([$"create {name}", $"start {name}", $"die {name}", $"destroy {name}"], names);
        Assert.Equal(["container", "container", "container", "container"], types);
        Assert.Equal(["create=<no value>", "start=<no value>", "die=3", "destroy=<no value>"], exits);
        Assert.Equal($"die {name} [] local {{\"ID\":\"{name}\",\"Attributes\":{{\"exitCode\":\"3\",\"name\":\"{name}\"}}}}", fields[2]);
        var objects = json.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["create", "start", "die", "destroy"], objects.Select(o => o.GetProperty("status").GetString()));
        Assert.Equal(
            objects.Select(o => $"{o.GetProperty("time").GetInt64()} {o.GetProperty("timeNano").GetInt64()}"),
            times);
    }

    [ScaledFact(120_000)]
    public async Task An_OOM_killed_run_records_oom_before_its_die_with_137()
    {
        Requires.Root();
        Assert.SkipWhen(Containers.Cgroups.CgroupDriver.DetectLayout() is null, "needs cgroups (this host mounts none)");
        var name = "cli-events-" + Guid.NewGuid().ToString("N")[..8];
        var since = Since();

        // tail keeps the current line, and /dev/zero has no line end: it grows until the limit stops it.
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "--name", name, "-m", "16m", "--memory-swap", "16m", "--", "/usr/bin/tail", "/dev/zero");
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync(
            "events", "--since", since, "--until", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), "--filter", $"container={name}");

        Assert.True(run.ExitCode == 137, run.Stderr);
        Assert.True(exitCode == 0, stderr);
        var events = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Parse(l, name)).ToList();
        Assert.Equal(["create", "start", "oom", "die", "destroy"], events.Select(e => e.Action));
        Assert.Matches($"^name={name}, oomKills=[1-9][0-9]*$", events[2].Attributes);
        Assert.Equal("exitCode=137, name=" + name, events[3].Attributes);
    }

    [ScaledFact(180_000)]
    public async Task A_detached_containers_monitor_records_each_OOM_kill_that_leaves_the_container_running_as_it_happens()
    {
        Requires.Root();
        Assert.SkipWhen(Containers.Cgroups.CgroupDriver.DetectLayout() is null, "needs cgroups (this host mounts none)");
        var name = "cli-events-" + Guid.NewGuid().ToString("N")[..8];
        var since = Since();
        using var follower = Process.Start(CliRunner.StartInfo("events", "--since", since, "--filter", $"container={name}"))!;
        try
        {
            // Each round a subshell that makes itself the OOM killer's first choice fills 64 MiB under a 16 MiB limit;
            // the loop around it, the container's first process, lives on.
            var run = await CliRunner.RunAsync("run", "--host-rootfs", "-d", "--name", name, "-m", "16m", "--memory-swap", "16m", "--",
                "/bin/sh", "-c", "while :; do (echo 1000 > /proc/self/oom_score_adj; x=$(head -c 67108864 /dev/zero | tr '\\0' a)); sleep 1; done");
            Assert.True(run.ExitCode == 0, run.Stderr);

            var lines = await ReadUntilAsync(follower, name, "oom");
            lines.AddRange(await ReadUntilAsync(follower, name, "oom"));
            var ps = await CliRunner.RunAsync("ps", "--format", "json");

            var events = lines.Select(l => Parse(l, name)).ToList();
            Assert.Equal(["create", "start", "oom", "oom"], events.Select(e => e.Action));
            // Counting up: each kill once (kills close together may come as one event).
            var counts = events.Skip(2).Select(e => int.Parse(Regex.Match(e.Attributes, $"^name={name}, oomKills=([0-9]+)$").Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.True(counts[0] >= 1 && counts[1] > counts[0], string.Join(" | ", lines));
            Assert.True(ps.ExitCode == 0, ps.Stderr);
            Assert.Contains(ps.Stdout.Split('\n'), l => l.Contains($"\"Names\":\"{name}\"", StringComparison.Ordinal) && l.Contains("\"State\":\"running\"", StringComparison.Ordinal));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
            follower.Kill();
            await follower.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--filter", "label=a=b", "--filter 'label=a=b' is not supported: use container=ID, event=ACTION, image=REF or type=container")]
    [InlineData("--filter", "type=image", "only container events are recorded")]
    [InlineData("--filter", "event=explode", "no such event; containers record create, start, pause, unpause, kill, oom, die, destroy, update")]
    [InlineData("--filter", "container=", "give a value")]
    [InlineData("--format", "{{.Foo}}", "--format '{{.Foo}}': template: {{.Foo}}: the document has no field Foo")]
    [InlineData("--format", "{{.time}}", "the document has no field time")]
    [InlineData("--format", "{{.Action | upper}}", "pipelines ('|') are not supported")]
    [InlineData("--format", "table {{.Action}}", "a table of a template's columns is not")]
    [InlineData("--since", "yesterday", "--since 'yesterday': use a time")]
    [InlineData("--until", "soon", "--until 'soon': use a time")]
    public async Task What_events_does_not_apply_is_refused_before_it_reads(string option, string value, string message)
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("events", option, value);

        Assert.Equal(125, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [ScaledFact(60_000)]
    public async Task Since_after_until_is_refused()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("events", "--since", "1m", "--until", "2m");

        Assert.Equal((125, ""), (exitCode, stdout));
        Assert.Contains("--since is after --until", stderr, StringComparison.Ordinal);
    }

    /// <summary>Now, as <c>--since</c> takes it; a second back, so an event recorded in the same tick is not left out.</summary>
    private static string Since() => DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", CultureInfo.InvariantCulture);

    /// <summary>Reads the follower's lines until one is <paramref name="action"/> of <paramref name="name"/>.</summary>
    private static async Task<List<string>> ReadUntilAsync(Process follower, string name, string action)
    {
        var lines = new List<string>();
        while (await follower.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            lines.Add(line);
            if (Parse(line, name).Action == action)
            {
                return lines;
            }
        }

        throw new InvalidOperationException($"events ended before a {action} of {name}: {string.Join(" | ", lines)}; stderr: {await follower.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken)}");
    }

    /// <summary>Docker's line: <c>TIME container ACTION ID (ATTRIBUTES)</c>.</summary>
    private static (DateTimeOffset Time, string Action, string Attributes) Parse(string line, string name)
    {
        var match = EventLine().Match(line);
        Assert.True(match.Success, $"not an event line: {line}");
        Assert.Equal(name, match.Groups["id"].Value);
        return (DateTimeOffset.Parse(match.Groups["time"].Value, CultureInfo.InvariantCulture), match.Groups["action"].Value, match.Groups["attributes"].Value);
    }

    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d) container (?<action>[a-z]+) (?<id>\S+) \((?<attributes>[^)]*)\)$")]
    private static partial Regex EventLine();
}
