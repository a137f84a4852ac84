using System.Runtime.Versioning;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

[SupportedOSPlatform("linux")]
public sealed class InitTests
{
    private static readonly ContainerCreateOptions WithInit = new() { Init = true };

    [Fact(Timeout = 60_000)]
    public async Task With_an_init_the_program_is_its_child_and_not_pid_1()
    {
        using var fixture = new RuntimeFixture();
        var (exit, stdout) = await RunAsync(fixture, ContainerSpec.For("/bin/sh", "-c", "echo $$ $PPID; exit 3"));

        Assert.Equal(3, exit.ExitCode);
        var pids = stdout.Split(' ', StringSplitOptions.TrimEntries);
        Assert.NotEqual("1", pids[0]);
        Assert.Equal("1", pids[1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_init_reaps_an_orphaned_zombie()
    {
        using var fixture = new RuntimeFixture();

        // The inner sh exits at once and orphans its background child; once that child exits, nobody but the
        // init waits for it: its /proc entry goes only when it is reaped (a zombie keeps it), so the script waits
        // for that (the test's timeout fails an init that never reaps). Afterwards no process may be a zombie.
        const string Script = """
            orphan=$(sh -c 'sleep 0.1 >/dev/null & echo $!')
            while [ -e /proc/$orphan ]; do sleep 0.01; done
            for stat in /proc/[0-9]*/stat; do read -r line < "$stat" && echo "${line#*) }" | cut -c1; done | sort | uniq -c | tr -s ' ' | tr '\n' ';'
            """;
        var (exit, stdout) = await RunAsync(fixture, ContainerSpec.For("/bin/sh", "-c", Script));

        Assert.Equal(0, exit.ExitCode);
        Assert.DoesNotContain(" Z", stdout, StringComparison.Ordinal);
        Assert.Contains(" R", stdout, StringComparison.Ordinal); // the loop itself ran and saw processes
    }

    [Fact(Timeout = 60_000)]
    public async Task A_signal_to_the_container_reaches_the_program_and_its_exit_code_comes_back()
    {
        using var fixture = new RuntimeFixture();
        var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "trap 'exit 7' TERM; echo ready; sleep 30 & wait"), WithInit, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var lines = container.ReadOutputLinesAsync(TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
            Assert.True(await lines.MoveNextAsync());
            Assert.Equal("ready", lines.Current.Text);

            await container.SignalAsync(15, TestContext.Current.CancellationToken);

            var exit = await container.WaitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(7, exit.ExitCode);
            await lines.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_killed_by_a_signal_makes_the_init_exit_with_128_plus_the_signal()
    {
        using var fixture = new RuntimeFixture();

        // sleep has no handler: as pid 1 it would ignore SIGTERM, as the init's child it dies of it.
        var container = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/sleep", "30"), WithInit, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            await container.SignalAsync(15, TestContext.Current.CancellationToken);

            var exit = await container.WaitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(128 + 15, exit.ExitCode);
            Assert.Null(exit.Signal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_exec_failure_behind_the_init_is_still_reported_by_start()
    {
        using var fixture = new RuntimeFixture();
        var dir = Directory.CreateTempSubdirectory("containers-init-noexec-").FullName;
        try
        {
            // Executable when the plan is compiled, not any more when the program's process runs exec.
            var program = Path.Combine(dir, "program");
            await File.WriteAllTextAsync(program, "#!/bin/sh\nexit 0\n", TestContext.Current.CancellationToken);
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var spec = ContainerSpec.For("/data/program").WithBindMount(dir, "/data");
            var container = await fixture.Runtime.CreateAsync(null, spec, WithInit, TestContext.Current.CancellationToken);
            await using (container)
            {
                File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

                var error = await Assert.ThrowsAsync<ContainerStartException>(() => container.StartAsync(TestContext.Current.CancellationToken));
                Assert.Contains("exec", error.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task With_a_terminal_the_program_leads_the_foreground_process_group()
    {
        using var fixture = new RuntimeFixture();

        // /proc/PID/stat after the command name: state ppid pgrp session tty_nr tpgid.
        const string Script = """
            set -- $(sed 's/.*) //' /proc/$$/stat)
            [ "$3" = "$$" ] && [ "$6" = "$$" ] && [ "$4" = "1" ] && echo foreground-ok
            """;
        var container = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/sh", "-c", Script).WithTerminal(), WithInit, TestContext.Current.CancellationToken);
        await using (container)
        {
            Assert.NotNull(container.Terminal);
            await container.StartAsync(TestContext.Current.CancellationToken);
            var output = new System.Text.StringBuilder();
            while (true)
            {
                var read = await container.Terminal.Output.ReadAsync(TestContext.Current.CancellationToken);
                foreach (var segment in read.Buffer)
                {
                    output.Append(System.Text.Encoding.UTF8.GetString(segment.Span));
                }

                container.Terminal.Output.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
            Assert.Contains("foreground-ok", output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Exec_joins_a_container_whose_pid_1_is_the_init()
    {
        using var fixture = new RuntimeFixture();
        var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", "echo inside > /dev/shm/mark; sleep 30"), WithInit, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var probe = new ProcessSpec
            {
                Args = ["/bin/sh", "-c", "while [ ! -e /dev/shm/mark ]; do sleep 0.05; done; cat /dev/shm/mark /proc/1/comm"],
                Env = ["PATH=" + ContainerSpec.DefaultPath],
            };
            await using var exec = await container.ExecAsync(probe, ContainerStdio.Pipes, TestContext.Current.CancellationToken);
            await exec.Stdin.CompleteAsync();
            var result = await exec.CollectAsync(TestContext.Current.CancellationToken);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal("inside\ninit\n", result.Stdout);
        }
    }

    private static async Task<(ContainerExit Exit, string Stdout)> RunAsync(RuntimeFixture fixture, ContainerSpec spec)
    {
        var container = await fixture.Runtime.CreateAsync(null, spec, WithInit, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var stdout = await ReadAllAsync(container);
            return (await container.WaitAsync(TestContext.Current.CancellationToken), stdout);
        }
    }

    private static async Task<string> ReadAllAsync(Container container)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var line in container.ReadOutputLinesAsync(TestContext.Current.CancellationToken))
        {
            if (line.Stream == OutputStream.Stdout)
            {
                text.Append(line.Text).Append('\n');
            }
        }

        return text.ToString().Trim();
    }
}
