using System.Globalization;
using System.Text.Json;

namespace Containers.IntegrationTests.Cli;

/// <summary>The command line behaves as a Docker user expects: options, flags, stdin, environment, exit codes.</summary>
public sealed class DockerConventionsTests
{
    [Fact(Timeout = 300_000)]
    public async Task An_unknown_option_is_an_error_that_names_it_and_creates_nothing()
    {
        var name = "cli-unknown-" + Guid.NewGuid().ToString("N")[..8];
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--name", name, "-p", "8080:80", "--host-rootfs", "true");

        Assert.Equal(125, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("unknown option '-p'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain((await CliRunner.RunAsync("ps", "-a", "-q")).Stdout.Split('\n'), l => l == name);
    }

    [Fact(Timeout = 300_000)]
    public async Task Detach_keys_that_are_no_keys_or_that_nothing_would_read_are_usage_errors_that_create_nothing()
    {
        var name = "cli-detach-keys-" + Guid.NewGuid().ToString("N")[..8];

        // Parsed before the container is looked for: the error is the option's, not "no such container".
        var attach = await CliRunner.RunAsync("attach", "--detach-keys", "ctrl-p,shift-q", name);
        var start = await CliRunner.RunAsync("start", "--detach-keys", "ctrl-a,x", name);
        var exec = await CliRunner.RunAsync("exec", "--detach-keys", "ctrl-a,x", name, "sh");
        var run = await CliRunner.RunAsync("run", "-it", "--name", name, "--detach-keys", "ctrl-a,x", "--host-rootfs", "true");
        var detached = await CliRunner.RunAsync("run", "-dit", "--name", name, "--detach-keys", "ctrl-a,x", "--host-rootfs", "sh");

        Assert.Equal((125, ""), (attach.ExitCode, attach.Stdout));
        Assert.Contains("--detach-keys 'ctrl-p,shift-q': 'shift-q' is not a key: give keys separated by commas", attach.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, start.ExitCode);
        Assert.Contains("--detach-keys is for the keys of an attached terminal: give it with -a -i", start.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, exec.ExitCode);
        Assert.Contains("--detach-keys: an exec cannot be detached from", exec.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, run.ExitCode);
        Assert.Contains("--detach-keys: a foreground run cannot be detached from", run.Stderr, StringComparison.Ordinal);
        Assert.Equal((125, ""), (detached.ExitCode, detached.Stdout));
        Assert.Contains("run -d attaches none: give it to 'containers attach'", detached.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain((await CliRunner.RunAsync("ps", "-a", "--format", "{{.Names}}")).Stdout.Split('\n'), l => l == name);
    }

    [Fact(Timeout = 300_000)]
    public async Task Start_ai_of_a_container_created_with_i_and_no_terminal_gives_it_this_commands_input_then_closes_its_stdin()
    {
        var name = "cli-start-ai-" + Guid.NewGuid().ToString("N")[..8];
        var create = await CliRunner.RunAsync("create", "-i", "--name", name, "--host-rootfs", "--", "sh", "-c", "while read l; do echo \"got $l\"; done; echo end >&2; exit 4");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            // The loop ends only at the end of its stdin: the container's stdin closes when this command's input ends.
            var start = await CliRunner.RunAsync(CliRunner.StartInfo("start", "-ai", name), stdin: "a\nb\n");
            var again = await CliRunner.RunAsync(CliRunner.StartInfo("start", "-ai", name), stdin: "c\n");

            Assert.True(start.ExitCode == 4, start.Stderr);
            Assert.Equal("got a\ngot b\n", start.Stdout);
            Assert.Equal("end\n", start.Stderr);
            Assert.Equal(125, again.ExitCode);
            Assert.Contains("a container runs once", again.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Start_ai_of_a_container_created_without_i_is_refused_and_leaves_it_created()
    {
        var name = "cli-start-ai-" + Guid.NewGuid().ToString("N")[..8];
        var create = await CliRunner.RunAsync("create", "--name", name, "--host-rootfs", "--", "/bin/cat");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            var start = await CliRunner.RunAsync(CliRunner.StartInfo("start", "-ai", name), stdin: "x\n");

            Assert.Equal((125, ""), (start.ExitCode, start.Stdout));
            Assert.Contains($"container '{name}' was created without -i: its stdin is closed", start.Stderr, StringComparison.Ordinal);
            Assert.Equal("created", (await CliRunner.RunAsync("inspect", "--format", "{{.State.Status}}", name)).Stdout.Trim());
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task A_yes_no_flag_never_takes_the_next_word_as_its_value()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--rm", "--host-rootfs", "echo", "ran");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("ran\n", stdout);
    }

    [Fact(Timeout = 300_000)]
    public async Task Options_after_the_program_belong_to_the_program()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "sh", "-c", "echo $0 $1; exit 3", "-e", "--rm");

        Assert.True(exitCode == 3, stderr);
        Assert.Equal("-e --rm\n", stdout);
    }

    [Fact(Timeout = 300_000)]
    public async Task Combined_short_flags_are_each_applied()
    {
        // -it: a terminal (the program sees one on fd 0 and 1) and stdin attached.
        var start = CliRunner.StartInfo("run", "-it", "--host-rootfs", "--", "sh", "-c", "test -t 0 && test -t 1 && echo tty; read line; echo got-$line");
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync(start, "typed\n");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("tty", stdout, StringComparison.Ordinal);
        Assert.Contains("got-typed", stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task Stdin_reaches_the_container_only_with_dash_i()
    {
        var with = await CliRunner.RunAsync(CliRunner.StartInfo("run", "-i", "--host-rootfs", "cat"), "piped\n");
        var without = await CliRunner.RunAsync(CliRunner.StartInfo("run", "--host-rootfs", "cat"), "piped\n");

        Assert.True(with.ExitCode == 0, with.Stderr);
        Assert.Equal("piped\n", with.Stdout);
        Assert.True(without.ExitCode == 0, without.Stderr);
        Assert.Equal("", without.Stdout);
    }

    [Fact(Timeout = 300_000)]
    public async Task Dash_e_with_a_name_alone_passes_the_hosts_value_and_omits_an_unset_one()
    {
        var start = CliRunner.StartInfo("run", "-e", "CLI_FROM_HOST", "-e", "CLI_UNSET_ON_HOST", "-eCLI_INLINE=x", "--host-rootfs",
            "sh", "-c", "echo $CLI_FROM_HOST ${CLI_UNSET_ON_HOST-unset} $CLI_INLINE");
        start.Environment["CLI_FROM_HOST"] = "host-value";
        start.Environment.Remove("CLI_UNSET_ON_HOST");
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync(start, null);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("host-value unset x\n", stdout);
    }

    [Fact(Timeout = 300_000)]
    public async Task Env_file_variables_come_before_dash_e_and_exec_takes_them_too()
    {
        var file = Path.Combine(Path.GetTempPath(), "env-" + Guid.NewGuid().ToString("N"));
        var bad = file + "-bad";
        var name = "cli-envfile-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(file, "\uFEFF# a comment\n\n  A=from file \nB=file\r\nCLI_FROM_HOST\nCLI_UNSET_ON_HOST\nEMPTY=\n");
        File.WriteAllText(bad, "NAME WITH SPACE=1\n");
        try
        {
            var start = CliRunner.StartInfo("run", "--env-file", file, "-e", "B=dash-e", "--host-rootfs", "sh", "-c", "echo \"[$A] [$B] [$CLI_FROM_HOST] [${CLI_UNSET_ON_HOST-unset}] [${EMPTY-unset}]\"");
            start.Environment["CLI_FROM_HOST"] = "host-value";
            start.Environment.Remove("CLI_UNSET_ON_HOST");
            var run = await CliRunner.RunAsync(start, null);
            Assert.Equal(0, (await CliRunner.RunAsync("run", "-d", "--name", name, "-e", "A=container", "--host-rootfs", "sleep", "60")).ExitCode);
            var exec = await CliRunner.RunAsync("exec", "--env-file", file, name, "sh", "-c", "echo \"[$A] [$B]\"");
            var refused = await CliRunner.RunAsync("run", "--env-file", bad, "--host-rootfs", "true");
            var missing = await CliRunner.RunAsync("run", "--env-file", file + "-missing", "--host-rootfs", "true");

            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("[from file ] [dash-e] [host-value] [unset] []\n", run.Stdout);
            Assert.True(exec.ExitCode == 0, exec.Stderr);
            Assert.Equal("[from file ] [file]\n", exec.Stdout);
            Assert.Equal(125, refused.ExitCode);
            Assert.Contains("line 1", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(125, missing.ExitCode);
            Assert.Contains("--env-file", missing.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
            File.Delete(bad);
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Dash_u_takes_names_from_the_containers_passwd_and_numbers_as_they_are()
    {
        var nobody = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f[0] == "nobody");
        Assert.SkipWhen(nobody is null, "the host's /etc/passwd has no 'nobody'");

        var byName = await CliRunner.RunAsync("run", "-u", "nobody", "--host-rootfs", "sh", "-c", "echo $(id -u) $(id -g)");
        var byNumber = await CliRunner.RunAsync("run", "-u", "1", "--host-rootfs", "sh", "-c", "echo $(id -u) $(id -g)");
        var unknown = await CliRunner.RunAsync("run", "-u", "no-such-user", "--host-rootfs", "true");

        Assert.True(byName.ExitCode == 0, byName.Stderr);
        Assert.Equal($"{nobody![2]} {nobody[3]}\n", byName.Stdout);
        Assert.True(byNumber.ExitCode == 0, byNumber.Stderr);
        Assert.Equal("1 0\n", byNumber.Stdout);
        Assert.Equal(125, unknown.ExitCode);
        Assert.Contains("'no-such-user' is not in the container's /etc/passwd", unknown.Stderr, StringComparison.Ordinal);
    }

    [Theory(Timeout = 300_000)]
    [InlineData("/no/such/program", 127)]
    [InlineData("/etc/hostname", 126)]
    [InlineData("/etc/passwd", 126)]
    [InlineData("/etc", 126)]
    public async Task A_program_that_cannot_run_exits_as_Dockers(string program, int expected)
    {
        var (exitCode, _, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--", program);

        Assert.True(exitCode == expected, $"exit {exitCode}: {stderr}");
        Assert.StartsWith("containers: ", stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task An_unknown_command_suggests_the_nearest_and_help_names_containers()
    {
        var typo = await CliRunner.RunAsync("rnu");
        var help = await CliRunner.RunAsync("run", "--help");

        Assert.Equal(125, typo.ExitCode);
        Assert.Contains("did you mean 'run'?", typo.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:  containers run [OPTIONS]", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Containers.Cli", help.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task Version_says_whether_it_is_the_native_build()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("version", "--format", "json");

        Assert.True(exitCode == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        // Docker's shape: the client's fields under Client, and Server null where no daemon answers.
        var client = json.RootElement.GetProperty("Client");
        Assert.Equal(CliRunner.NativeBinary is not null, client.GetProperty("NativeAot").GetBoolean());
        Assert.Equal("linux", client.GetProperty("Os").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("Server").ValueKind);
        var table = await CliRunner.RunAsync("version");
        Assert.Contains($"Version:     {client.GetProperty("Version").GetString()}", table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("+", client.GetProperty("Version").GetString(), StringComparison.Ordinal);
        var formatted = await CliRunner.RunAsync("version", "--format", "{{.Client.Version}} {{.Client.Os}}/{{.Client.Arch}} {{.Client.NativeAot}}");
        Assert.Equal($"{client.GetProperty("Version").GetString()} linux/{client.GetProperty("Arch").GetString()} {(CliRunner.NativeBinary is not null ? "true" : "false")}\n", formatted.Stdout);
    }

    [Fact(Timeout = 300_000)]
    public async Task Ps_stop_wait_inspect_and_logs_work_as_Dockers()
    {
        var name = "cli-conventions-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--",
            "sh", "-c", "trap 'echo term; exit 3' TERM; for i in 1 2 3 4 5; do echo line$i; done; while :; do sleep 0.1; done");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            var running = await CliRunner.RunAsync("ps", "--format", "json");
            var row = Assert.Single(running.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains(name, StringComparison.Ordinal));
            using (var json = JsonDocument.Parse(row))
            {
                Assert.Equal("running", json.RootElement.GetProperty("State").GetString());
                Assert.StartsWith("Up ", json.RootElement.GetProperty("Status").GetString(), StringComparison.Ordinal);
                // Docker's values: the short id, the command quoted and cut as in the table, Go's time layout.
                Assert.Equal(name, json.RootElement.GetProperty("Names").GetString());
                Assert.Equal(name[..12], json.RootElement.GetProperty("ID").GetString());
                Assert.Equal("\"sh -c trap 'echo te…\"", json.RootElement.GetProperty("Command").GetString());
                Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$", json.RootElement.GetProperty("CreatedAt").GetString());
                Assert.EndsWith(" ago", json.RootElement.GetProperty("RunningFor").GetString(), StringComparison.Ordinal);
            }

            // --no-trunc: the whole id and command, in the table, -q and templates alike.
            Assert.Contains(name, (await CliRunner.RunAsync("ps", "-q", "--no-trunc")).Stdout.Split('\n'));
            Assert.Contains(
                $"{name} \"sh -c trap 'echo term; exit 3' TERM; for i in 1 2 3 4 5; do echo line$i; done; while :; do sleep 0.1; done\"",
                (await CliRunner.RunAsync("ps", "--no-trunc", "--format", "{{.ID}} {{.Command}}")).Stdout.Split('\n'));
            Assert.Contains((await CliRunner.RunAsync("ps", "--no-trunc")).Stdout.Split('\n'), l => l.StartsWith(name + " ", StringComparison.Ordinal));

            var table = await CliRunner.RunAsync("ps");
            // Columns are as wide as their longest value, and other tests' containers may be listed beside this one.
            Assert.Matches(@"^CONTAINER ID {3,}IMAGE {3,}COMMAND {3,}CREATED {3,}STATUS {3,}NAMES *\n", table.Stdout);
            Assert.Contains(table.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));

            var logs = await LogsAsync(name, "line5\n");
            Assert.Equal("line1\nline2\nline3\nline4\nline5\n", logs);
            Assert.Equal("line4\nline5\n", (await CliRunner.RunAsync("logs", "--tail", "2", name)).Stdout);
            var stamped = (await CliRunner.RunAsync("logs", "-t", "-n", "1", name)).Stdout;
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line5\n$", stamped);

            // The trap answers SIGTERM within the grace period: exit 3, not 137.
            var stop = await CliRunner.RunAsync("stop", "-t", "20", name);
            Assert.True(stop.ExitCode == 0, stop.Stderr);
            Assert.Equal("3\n", (await CliRunner.RunAsync("wait", name)).Stdout);

            Assert.DoesNotContain((await CliRunner.RunAsync("ps", "-q")).Stdout.Split('\n'), l => name.StartsWith(l, StringComparison.Ordinal) && l.Length > 0);
            var all = await CliRunner.RunAsync("ps", "-a");
            Assert.Contains(all.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Exited (3) ", StringComparison.Ordinal));

            var inspect = await CliRunner.RunAsync("inspect", name);
            Assert.True(inspect.ExitCode == 0, inspect.Stderr);
            using var document = JsonDocument.Parse(inspect.Stdout);
            var container = Assert.Single(document.RootElement.EnumerateArray().ToList());
            Assert.Equal(name, container.GetProperty("Id").GetString());
            var state = container.GetProperty("State");
            Assert.Equal("exited", state.GetProperty("Status").GetString());
            Assert.Equal(3, state.GetProperty("ExitCode").GetInt32());
            Assert.False(state.GetProperty("Running").GetBoolean());
            Assert.False(state.GetProperty("Paused").GetBoolean());
            Assert.Equal(0, state.GetProperty("Pid").GetInt32());
            Assert.Matches(Rfc3339, state.GetProperty("StartedAt").GetString());
            Assert.Matches(Rfc3339, state.GetProperty("FinishedAt").GetString());
            Assert.True(DateTimeOffset.Parse(state.GetProperty("FinishedAt").GetString()!, CultureInfo.InvariantCulture)
                >= DateTimeOffset.Parse(state.GetProperty("StartedAt").GetString()!, CultureInfo.InvariantCulture));
            Assert.Equal("sh", container.GetProperty("Config").GetProperty("process").GetProperty("args")[0].GetString());
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>Go's RFC 3339 with nanoseconds, in UTC, as Docker writes times: no zero at the end of the fraction.</summary>
    private const string Rfc3339 = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$";

    [Fact(Timeout = 300_000)]
    public async Task Inspect_format_prints_a_template_on_each_containers_object_one_line_each()
    {
        var running = "cli-format-" + Guid.NewGuid().ToString("N")[..8];
        var exited = "cli-format-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await CliRunner.RunAsync("run", "-d", "--name", running, "--host-rootfs", "--", "sleep", "60")).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("run", "-d", "--name", exited, "--host-rootfs", "--", "sh", "-c", "exit 7")).ExitCode);
        try
        {
            Assert.Equal("7\n", (await CliRunner.RunAsync("wait", exited)).Stdout);

            var (exitCode, stdout, stderr) = await CliRunner.RunAsync("inspect", "--format", "{{.Id}} {{.Name}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.Args}}", running, exited);

            Assert.True(exitCode == 0, stderr);
            Assert.Equal($"{running} /{running} running true 0 [60]\n{exited} /{exited} exited false 7 [-c exit 7]\n", stdout);

            var pid = (await CliRunner.RunAsync("inspect", "-f", "{{.State.Pid}}", running)).Stdout.TrimEnd('\n');
            Assert.Equal("sleep", File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n'));

            var state = await CliRunner.RunAsync("inspect", "-f", "{{json .State}}", exited);
            using (var json = JsonDocument.Parse(state.Stdout))
            {
                Assert.Equal("exited", json.RootElement.GetProperty("Status").GetString());
                Assert.Equal(7, json.RootElement.GetProperty("ExitCode").GetInt32());
                Assert.Matches(Rfc3339, json.RootElement.GetProperty("FinishedAt").GetString());
            }

            var whole = await CliRunner.RunAsync("inspect", "-f", "{{json .}}", running);
            using (var json = JsonDocument.Parse(whole.Stdout))
            {
                Assert.Equal("0001-01-01T00:00:00Z", json.RootElement.GetProperty("State").GetProperty("FinishedAt").GetString());
                Assert.Equal("sleep", json.RootElement.GetProperty("Config").GetProperty("process").GetProperty("args")[0].GetString());
            }

            var first = await CliRunner.RunAsync("inspect", "-f", "{{index .Config.process.args 0}}:{{.Config.process.cwd}}", running);
            Assert.Equal("sleep:/\n", first.Stdout);

            var ps = await CliRunner.RunAsync("ps", "-a", "--format", "{{.Names}} {{.State}}");
            Assert.Contains($"{exited} exited", ps.Stdout.Split('\n'));
            Assert.Contains($"{running} running", ps.Stdout.Split('\n'));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", running, exited);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Inspect_format_refuses_what_it_cannot_print_and_prints_nothing()
    {
        var name = "cli-format-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "true")).ExitCode);
        try
        {
            var range = await CliRunner.RunAsync("inspect", "-f", "{{range .Args}}{{.}}{{end}}", name);
            Assert.Equal(125, range.ExitCode);
            Assert.Equal("", range.Stdout);
            Assert.Contains("'range' is not supported", range.Stderr, StringComparison.Ordinal);

            var missing = await CliRunner.RunAsync("inspect", "-f", "{{.State.OOMKilled}}", name);
            Assert.Equal(125, missing.ExitCode);
            Assert.Equal("", missing.Stdout);
            Assert.Contains(".State has no field OOMKilled", missing.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Stop_kills_a_container_that_ignores_SIGTERM_after_the_grace_period()
    {
        var name = "cli-stop-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "sleep", "60");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            // sleep is pid 1 of its pid namespace: SIGTERM without a handler does nothing to it.
            var stop = await CliRunner.RunAsync("stop", "-t", "1", name);
            Assert.True(stop.ExitCode == 0, stop.Stderr);
            var wait = await CliRunner.RunAsync("wait", name);
            Assert.True(wait.ExitCode == 0, $"wait exited {wait.ExitCode}: {wait.Stderr}");
            Assert.Equal((128 + 9).ToString(CultureInfo.InvariantCulture) + "\n", wait.Stdout);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    private static async Task<string> LogsAsync(string name, string last)
    {
        for (var attempt = 0; ; attempt++)
        {
            var logs = await CliRunner.RunAsync("logs", name);
            if (logs.Stdout.EndsWith(last, StringComparison.Ordinal) || attempt == 100)
            {
                return logs.Stdout;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
