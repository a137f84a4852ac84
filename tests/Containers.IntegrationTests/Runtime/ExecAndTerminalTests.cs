using System.Text;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class ExecAndTerminalTests
{
    [Fact(Timeout = 60_000)]
    public async Task Exec_runs_a_process_inside_a_running_container_with_its_namespaces_and_root()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo inside > /dev/shm/mark; sleep 30").WithHostname("exec-target"),
            TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);

        // The last line finds the container's program among the processes: pid 1, or pid 2 behind containers-init
        // when this host reaps every child (Pid1HostTests).
        var probe = new ProcessSpec
        {
            Args = ["/bin/sh", "-c", "while [ ! -e /dev/shm/mark ]; do sleep 0.05; done; hostname; cat /dev/shm/mark; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done | grep '^/bin/sh -c echo inside'"],
            Env = ["PATH=" + ContainerSpec.DefaultPath],
        };
        await using var exec = await container.ExecAsync(probe, ContainerStdio.Pipes, TestContext.Current.CancellationToken);
        await exec.Stdin.CompleteAsync();
        var result = await exec.CollectAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Equal("exec-target", lines[0]);
        Assert.Equal("inside", lines[1]);
        Assert.StartsWith("/bin/sh -c echo inside", lines[2], StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_container_with_a_terminal_gets_a_pty_that_can_be_resized()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "read x; tty; stty size").WithTerminal(), TestContext.Current.CancellationToken);
        Assert.NotNull(container.Terminal);
        container.Terminal.Resize(columns: 123, rows: 45);
        await container.StartAsync(TestContext.Current.CancellationToken);

        await container.Terminal.Input.WriteAsync(Encoding.UTF8.GetBytes("go\n"), TestContext.Current.CancellationToken);
        var output = new StringBuilder();
        while (true)
        {
            var read = await container.Terminal.Output.ReadAsync(TestContext.Current.CancellationToken);
            foreach (var segment in read.Buffer)
            {
                output.Append(Encoding.UTF8.GetString(segment.Span));
            }

            container.Terminal.Output.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        var text = output.ToString();
        Assert.Contains("/dev/pts/0", text, StringComparison.Ordinal);
        Assert.Contains("45 123", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Exec_finds_a_program_the_container_wrote_and_applies_the_process_rlimits()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", "printf '#!/bin/sh\\nulimit -n\\n' > /tmp/limit.sh; chmod +x /tmp/limit.sh; echo ready; exec sleep 30"), ct);
        await container.Stdin.CompleteAsync();
        await container.StartAsync(ct);
        await foreach (var line in container.ReadOutputLinesAsync(ct))
        {
            if (line.Text == "ready")
            {
                break;
            }
        }

        var process = new ProcessSpec { Args = ["/tmp/limit.sh"], Rlimits = [new PosixRlimit("RLIMIT_NOFILE", 64, 64)] };
        await using var exec = await container.ExecAsync(process, ContainerStdio.Pipes, ct);
        await exec.Stdin.CompleteAsync();
        var result = await exec.CollectAsync(ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("64\n", result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task Exec_of_a_missing_program_is_a_typed_error_before_anything_starts()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/sleep", "30"), new ContainerCreateOptions { Stdio = ContainerStdio.Null }, ct);
        await container.StartAsync(ct);

        var error = await Assert.ThrowsAsync<ExecutableNotFoundException>(
            () => container.ExecAsync(new ProcessSpec { Args = ["/usr/bin/no-such-program"] }, ContainerStdio.Pipes, ct));
        var notExecutable = await Assert.ThrowsAsync<NotExecutableException>(
            () => container.ExecAsync(new ProcessSpec { Args = ["/etc/passwd"] }, ContainerStdio.Pipes, ct));

        Assert.Equal("/usr/bin/no-such-program", error.Executable);
        Assert.Equal("/etc/passwd", notExecutable.Path);
    }
}
