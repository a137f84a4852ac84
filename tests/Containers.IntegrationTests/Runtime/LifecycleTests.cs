using System.Buffers;
using System.Text;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class LifecycleTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_exit_code_of_the_process_is_returned()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "exit 42"), TestContext.Current.CancellationToken);

        Assert.Equal(42, result.ExitCode);
        Assert.Null(result.Signal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_process_killed_by_a_signal_reports_the_signal_and_not_an_exit_code()
    {
        using var fixture = new RuntimeFixture();

        // Outside a pid namespace of its own the program is not an init, which ignores unhandled signals.
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sleep", "30").WithoutNamespace(NamespaceType.Pid), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);
        await container.SignalAsync(15, TestContext.Current.CancellationToken);
        var exit = await container.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(15, exit.Signal);
        Assert.Null(exit.ExitCode);
        Assert.Equal(128 + 15, exit.ShellStatus);
        Assert.Equal(ContainerStatus.Stopped, container.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_signal_reaches_a_pid_1_that_handles_it()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "trap 'exit 7' TERM; echo ready; sleep 30 & wait"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);
        var lines = container.ReadOutputLinesAsync(TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await lines.MoveNextAsync());
        Assert.Equal("ready", lines.Current.Text);

        await container.SignalAsync(15, TestContext.Current.CancellationToken);

        Assert.Equal(7, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        await lines.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Kill_stops_a_running_container_with_SIGKILL()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ContainerStatus.Running, container.Status);

        var exit = await container.KillAsync(TestContext.Current.CancellationToken);

        Assert.Equal(9, exit.Signal);
        Assert.Equal(ContainerStatus.Stopped, container.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task Stdin_stdout_and_stderr_round_trip()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "while read line; do echo \"out:$line\"; echo \"err:$line\" >&2; done"),
            TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);

        await container.Stdin.WriteAsync(Encoding.UTF8.GetBytes("one\ntwo\n"), TestContext.Current.CancellationToken);
        await container.Stdin.CompleteAsync();
        var lines = new List<OutputLine>();
        await foreach (var line in container.ReadOutputLinesAsync(TestContext.Current.CancellationToken))
        {
            lines.Add(line);
        }

        Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        Assert.Equal(["out:one", "out:two"], lines.Where(l => l.Stream == OutputStream.Stdout).Select(l => l.Text));
        Assert.Equal(["err:one", "err:two"], lines.Where(l => l.Stream == OutputStream.Stderr).Select(l => l.Text));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_hundred_megabytes_of_output_on_both_streams_do_not_deadlock()
    {
        using var fixture = new RuntimeFixture();
        const long size = 100L << 20;
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", $"head -c {size} /dev/zero & head -c {size} /dev/zero >&2; wait"),
            TestContext.Current.CancellationToken);
        await container.Stdin.CompleteAsync();
        await container.StartAsync(TestContext.Current.CancellationToken);

        var counts = await Task.WhenAll(
            CountAsync(container.Stdout, TestContext.Current.CancellationToken),
            CountAsync(container.Stderr, TestContext.Current.CancellationToken));

        Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        Assert.Equal([size, size], counts);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_collects_stdout_and_stderr_separately()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 3"), TestContext.Current.CancellationToken);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("to-out\n", result.Stdout);
        Assert.Equal("to-err\n", result.Stderr);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_created_container_runs_nothing_until_started()
    {
        using var fixture = new RuntimeFixture();
        var marker = Directory.CreateTempSubdirectory("containers-marker-").FullName;
        try
        {
            await using var container = await fixture.Runtime.CreateAsync(
                ContainerSpec.For("/bin/touch", "/mark/started").WithBindMount(marker, "/mark"), TestContext.Current.CancellationToken);

            Assert.Equal(ContainerStatus.Created, container.Status);
            Assert.False(File.Exists(Path.Combine(marker, "started")));
            await container.StartAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
            Assert.True(File.Exists(Path.Combine(marker, "started")));
            await Assert.ThrowsAsync<ContainerStatusException>(() => container.StartAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            Directory.Delete(marker, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_running_container_cannot_be_deleted_without_killing_it()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<ContainerStatusException>(() => container.DeleteAsync(TestContext.Current.CancellationToken));

        Assert.Equal(ContainerStatus.Running, error.Status);
        await container.KillAsync(TestContext.Current.CancellationToken);
        await container.DeleteAsync(TestContext.Current.CancellationToken);
        Assert.Empty(await fixture.Runtime.ListAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<long> CountAsync(System.IO.Pipelines.PipeReader reader, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return total;
            }
        }
    }
}
