using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;
using Microsoft.Extensions.Logging;

namespace Containers.IntegrationTests.Runtime;

/// <summary>The container handle's own verbs: stop, exec by argv, collect, kept logs, and what the runtime owns.</summary>
public sealed class ContainerApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task Stop_escalates_to_SIGKILL_for_a_process_that_ignores_SIGTERM()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done").WithoutNamespace(NamespaceType.Pid), Ct);
        await container.StartAsync(Ct);
        await WaitForLineAsync(container, "ready");

        var exit = await container.StopAsync(TimeSpan.FromMilliseconds(300), Ct);

        Assert.Equal(9, exit.Signal);
        Assert.Equal(ContainerStatus.Stopped, container.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task Stop_sends_SIGTERM_first_and_returns_how_the_process_chose_to_end()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "trap 'exit 5' TERM; echo ready; sleep 60 & wait"), Ct);
        await container.StartAsync(Ct);
        await WaitForLineAsync(container, "ready");

        var exit = await container.StopAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(5, exit.ExitCode);
        Assert.Equal(5, (await container.StopAsync(cancellationToken: Ct)).ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Exec_with_an_argument_list_runs_in_the_container_and_collects_its_output()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "60").WithHostname("inside"), Ct);
        await container.StartAsync(Ct);

        await using var exec = await container.ExecAsync(["/bin/sh", "-c", "hostname; echo err >&2; exit 4"], Ct);
        var result = await exec.CollectAsync(Ct);

        Assert.Equal("inside\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal(4, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Collect_reads_a_started_containers_output_and_waits_for_it()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sh", "-c", "echo out; echo err >&2; exit 2"), Ct);
        await container.Stdin.CompleteAsync();
        await container.StartAsync(Ct);

        var result = await container.CollectAsync(Ct);

        Assert.Equal(("out\n", "err\n", 2), (result.Stdout, result.Stderr, result.ExitCode));
    }

    [Fact(Timeout = 120_000)]
    public async Task Collect_keeps_16_MiB_of_a_stream_discards_the_rest_without_blocking_the_writer_and_says_so()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "head -c 20971520 /dev/zero | tr '\\0' o; echo done >&2"), Ct);
        await container.StartAsync(Ct);

        var result = await container.CollectAsync(Ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(16 << 20, result.Stdout.Length);
        Assert.True(result.StdoutTruncated);
        Assert.Equal("done\n", result.Stderr);
        Assert.False(result.StderrTruncated);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_200_KB_writer_finishes_while_nobody_reads_its_pipes_and_its_output_waits()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "head -c 204800 /dev/zero | tr '\\0' o; head -c 204800 /dev/zero | tr '\\0' e >&2"), Ct);
        await container.StartAsync(Ct);

        // Nothing reads stdout or stderr until the process has exited.
        var exit = await container.WaitAsync(Ct);
        var result = await container.CollectAsync(Ct);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(new string('o', 204800), result.Stdout);
        Assert.Equal(new string('e', 204800), result.Stderr);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_kept_log_is_read_back_through_the_container_with_each_stream_named()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "echo out; echo err >&2"), new ContainerCreateOptions { KeepLog = true }, Ct);
        await container.StartAsync(Ct);
        await container.WaitAsync(Ct);

        var entries = new List<ContainerLogEntry>();
        await using (var other = await fixture.Runtime.GetAsync(container.Id, Ct))
        {
            Assert.True(other.Info.HasLog);
            await foreach (var entry in other.ReadLogAsync(follow: true, Ct))
            {
                entries.Add(entry);
            }
        }

        Assert.Equal(
            [(OutputStream.Stderr, "err\n"), (OutputStream.Stdout, "out\n")],
            entries.Select(e => (e.Stream, e.Text)).OrderBy(e => e.Text));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_follower_in_another_handle_reads_output_that_reached_the_log_after_the_program_exited()
    {
        using var fixture = new RuntimeFixture();

        // Without a pid namespace the background writer outlives the program and holds its stdout, so "late" reaches
        // the log half a second after the exit. The follower stops once the owner records the container stopped.
        await using var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "(sleep 0.5; echo late) & echo early").WithoutNamespace(NamespaceType.Pid),
            new ContainerCreateOptions { KeepLog = true }, Ct);
        var entries = new List<string>();
        await using (var other = await fixture.Runtime.GetAsync(container.Id, Ct))
        {
            await container.StartAsync(Ct);
            await foreach (var entry in other.ReadLogAsync(follow: true, Ct))
            {
                entries.Add(entry.Text);
            }
        }

        Assert.Equal(["early\n", "late\n"], entries);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_owners_wait_returns_while_a_process_the_container_left_holds_its_output_and_the_log_gets_it_later()
    {
        using var fixture = new RuntimeFixture();

        // Without a pid namespace the background reader outlives the program, holding its stdout until the test
        // writes a line to the container's stdin (fd 3: a background job's own stdin would be /dev/null).
        await using var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "exec 3<&0; (read line <&3; echo late-$line) & echo early").WithoutNamespace(NamespaceType.Pid),
            new ContainerCreateOptions { KeepLog = true }, Ct);
        await container.StartAsync(Ct);

        // Without a bound this waits for the writer, which waits for the test: the test's timeout would end it.
        var exit = await container.WaitAsync(Ct);
        var before = await ReadLogAsync(container);
        await container.Stdin.WriteAsync("go\n"u8.ToArray(), Ct);
        await container.Stdin.CompleteAsync();
        var after = before;
        for (var i = 0; i < 200 && after.Count < 2; i++)
        {
            await Task.Delay(50, Ct);
            after = await ReadLogAsync(container);
        }

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["early\n"], before);
        Assert.Equal(["early\n", "late-go\n"], after);

        static async Task<List<string>> ReadLogAsync(Container container)
        {
            var texts = new List<string>();
            await foreach (var entry in container.ReadLogAsync(follow: false, Ct))
            {
                texts.Add(entry.Text);
            }

            return texts;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_kept_log_of_a_terminal_holds_its_output_as_stdout_and_a_copy_of_the_output_gets_it_too()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "read line; echo got-$line").WithTerminal(), new ContainerCreateOptions { KeepLog = true }, Ct);
        var terminal = Assert.IsType<ContainerTerminal>(container.Terminal);
        using var copied = new MemoryStream();
        using (terminal.CopyOutputTo(copied))
        {
            Assert.Throws<InvalidOperationException>(() => terminal.CopyOutputTo(Stream.Null));
            await container.StartAsync(Ct);
            await terminal.Input.WriteAsync("hi\n"u8.ToArray(), Ct);
            Assert.Equal(0, (await container.WaitAsync(Ct)).ExitCode);
        }

        var entries = new List<ContainerLogEntry>();
        await foreach (var entry in container.ReadLogAsync(follow: true, Ct))
        {
            entries.Add(entry);
        }

        // The terminal echoes the input line, then the shell's; both end as a terminal ends lines.
        Assert.Equal([(OutputStream.Stdout, "hi\r\n"), (OutputStream.Stdout, "got-hi\r\n")], entries.Select(e => (e.Stream, e.Text)));
        Assert.Equal("hi\r\ngot-hi\r\n", System.Text.Encoding.UTF8.GetString(copied.ToArray()));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_kept_log_without_pipes_or_a_terminal_is_refused_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();
        var error = await Assert.ThrowsAsync<ContainersException>(() => fixture.Runtime.CreateAsync(
            "no-output", ContainerSpec.For("/bin/true"), new ContainerCreateOptions { KeepLog = true, Stdio = ContainerStdio.Inherit }, Ct));
        Assert.Contains("process.terminal", error.Message, StringComparison.Ordinal);
        Assert.Empty(await fixture.Runtime.ListAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task Reading_the_log_of_a_container_that_keeps_none_says_how_to_keep_one()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/true"), Ct);

        var error = Assert.Throws<ContainersException>(() => container.ReadLogAsync(cancellationToken: Ct));

        Assert.Contains("KeepLog", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task List_and_Info_describe_a_container_for_ps_and_inspect()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync("described", ContainerSpec.For("/bin/sh", "-c", "exit 6"), null, Ct);
        var created = Assert.Single(await fixture.Runtime.ListAsync(Ct));
        Assert.Equal(("described", ContainerStatus.Created, container.Pid), (created.Id, created.Status, created.Pid));
        Assert.Equal(["/bin/sh", "-c", "exit 6"], created.Command);
        Assert.Equal(Environment.ProcessId, created.OwnerPid);

        await container.StartAsync(Ct);
        await container.WaitAsync(Ct);

        var stopped = container.Info;
        Assert.Equal((ContainerStatus.Stopped, 6, (int?)null), (stopped.Status, stopped.ExitCode, stopped.Pid));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_leftover_whose_host_died_after_the_runtime_opened_is_not_listed_and_is_removed_by_the_listing()
    {
        using var fixture = new RuntimeFixture();
        await using var live = await fixture.Runtime.CreateAsync("live", ContainerSpec.For("/bin/true"), null, Ct);
        var states = new StateDirectory(fixture.StateDirectory);
        states.Claim(Leftover("leftover", fixture.StateDirectory));

        var listed = await fixture.Runtime.ListAsync(Ct);

        Assert.Equal(["live"], listed.Select(c => c.Id));
        Assert.Null(states.TryRead("leftover"));
        Assert.False(Directory.Exists(Path.Combine(fixture.StateDirectory, "leftover")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_runtime_opened_without_its_sweep_keeps_a_leftover_until_SweepAsync_removes_it_and_only_it()
    {
        using var fixture = new RuntimeFixture();
        var states = new StateDirectory(fixture.StateDirectory);
        states.Claim(Leftover("leftover", fixture.StateDirectory));
        await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = fixture.StateDirectory, SweepOnOpen = false }, Ct);
        await using var live = await runtime.CreateAsync("live", ContainerSpec.For("/bin/true"), null, Ct);

        Assert.NotNull(states.TryRead("leftover"));
        Assert.Equal(1, await runtime.SweepAsync(Ct));

        Assert.Null(states.TryRead("leftover"));
        Assert.False(Directory.Exists(Path.Combine(fixture.StateDirectory, "leftover")));
        Assert.Equal(ContainerStatus.Created, states.TryRead("live")?.Status);
        Assert.Equal(0, await runtime.SweepAsync(Ct));
    }

    /// <summary>What a host that died without cleaning up leaves: its own and its process's pids are gone, no log is kept.</summary>
    internal static ContainerState Leftover(string id, string stateDirectory) => new()
    {
        Id = id,
        Status = ContainerStatus.Running,
        Bundle = Path.Combine(stateDirectory, id),
        Created = DateTimeOffset.UtcNow,
        OwnerPid = int.MaxValue - 1,
        OwnerStartTime = 1,
        Pid = int.MaxValue - 2,
        PidStartTime = 1,
        Command = ["/bin/true"],
    };

    [Fact(Timeout = 60_000)]
    public async Task Disposing_the_runtime_kills_and_deletes_the_containers_it_created()
    {
        using var fixture = new RuntimeFixture();
        var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = fixture.StateDirectory }, Ct);
        var container = await runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "60"), Ct);
        await container.StartAsync(Ct);
        var disposedEarlier = await runtime.CreateAsync(ContainerSpec.For("/bin/true"), Ct);
        await disposedEarlier.DisposeAsync();

        await runtime.DisposeAsync();

        Assert.Equal(ContainerStatus.Stopped, container.Status);
        Assert.Equal(9, (await container.WaitAsync(Ct)).Signal);
        Assert.Empty(await fixture.Runtime.ListAsync(Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.CreateAsync(ContainerSpec.For("/bin/true"), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_state_directory_that_cannot_be_created_is_a_typed_error_naming_it()
    {
        // A folder below a regular file: ENOTDIR for root and for an ordinary user alike.
        var error = await Assert.ThrowsAsync<ContainersIOException>(
            () => ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = "/proc/self/status/state" }, Ct));

        Assert.Equal("/proc/self/status/state", error.Path);
        Assert.Contains("/proc/self/status/state", error.Message, StringComparison.Ordinal);
        Assert.True(error.InnerException is IOException or UnauthorizedAccessException);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_container_that_does_not_exist_is_a_typed_error()
    {
        using var fixture = new RuntimeFixture();
        var error = await Assert.ThrowsAsync<ContainerNotFoundException>(() => fixture.Runtime.GetAsync("nobody-here", Ct));
        Assert.Equal("nobody-here", error.Id);
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_lifecycle_step_is_logged_with_an_event_id_and_the_container_id_as_a_field()
    {
        using var fixture = new RuntimeFixture();
        var loggers = new CapturingLoggerFactory();
        await using (var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = fixture.StateDirectory, LoggerFactory = loggers }, Ct))
        {
            await runtime.RunAsync(
                ContainerSpec.For("/bin/sh", "-c", "echo 12345678901234567890; sleep 60"),
                new ContainerRunOptions { Id = "logged", Timeout = TimeSpan.FromSeconds(2), StopGracePeriod = TimeSpan.FromMilliseconds(100), MaxOutputBytes = 4 },
                Ct);
        }

        var events = loggers.Events.ToList();
        int[] expected = [1000, 1010, 1011, 1013, 1020, 1016, 1017, 1018, 1021, 1019, 1002];
        Assert.All(expected, id => Assert.Contains(events, e => e.Id.Id == id));
        Assert.All(events.Where(e => e.Id.Id is >= 1010 and < 1030), e => Assert.Equal("logged", e.Fields["ContainerId"]));
        var exited = events.Single(e => e.Id.Id == 1018);
        Assert.Equal(9, exited.Fields["Signal"]);
        Assert.Equal(LogLevel.Warning, events.First(e => e.Id.Id == 1017).Level);
    }

    private static async Task WaitForLineAsync(Container container, string expected)
    {
        var buffer = new System.Text.StringBuilder();
        while (true)
        {
            var read = await container.Stdout.ReadAsync(Ct);
            foreach (var segment in read.Buffer)
            {
                buffer.Append(System.Text.Encoding.UTF8.GetString(segment.Span));
            }

            container.Stdout.AdvanceTo(read.Buffer.End);
            if (buffer.ToString().Contains(expected + "\n", StringComparison.Ordinal))
            {
                return;
            }

            Assert.False(read.IsCompleted, $"the container ended without printing '{expected}'");
        }
    }
}
