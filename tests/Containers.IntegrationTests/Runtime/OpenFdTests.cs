using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// No host fd may reach a container's processes, whatever path started them: a leaked fd is a way out of the
/// container (an fd of a host directory is a whole host filesystem). Each probe lists its shell's own fds
/// (<c>/proc/$$/fd</c>) from the <c>ls</c> the shell runs and waits for, so ls's directory fd is not counted.
/// </summary>
public sealed class OpenFdTests
{
    private const string ListOwnFds = "ls /proc/$$/fd; true";

    [Fact(Timeout = 60_000)]
    public async Task An_exec_process_has_only_fds_0_1_and_2()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);

        await using var exec = await container.ExecAsync(Probe(ListOwnFds), ContainerStdio.Pipes, TestContext.Current.CancellationToken);
        await exec.Stdin.CompleteAsync();
        var result = await exec.CollectAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["0", "1", "2"], Lines(result.Stdout));
    }

    [Fact(Timeout = 60_000)]
    public async Task With_an_init_both_the_init_and_the_program_have_only_fds_0_1_and_2()
    {
        using var fixture = new RuntimeFixture();
        var container = await fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sh", "-c", ListOwnFds + "; echo - && sleep 30"), new ContainerCreateOptions { Init = true },
            TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var stdout = new List<string>();
            await foreach (var line in container.ReadOutputLinesAsync(TestContext.Current.CancellationToken))
            {
                if (line.Text == "-")
                {
                    break;
                }

                stdout.Add($"{line.Stream} {line.Text}");
            }

            // The init is non-dumpable, so only the host can list its fds: it keeps one, the pipe it reports the
            // program's status on, and no stdio. The program gets exactly 0, 1 and 2.
            var initFds = new DirectoryInfo($"/proc/{container.Pid}/fd").GetFileSystemInfos().Select(f => f.LinkTarget).ToList();
            Assert.Matches(@"^pipe:\[[0-9]+\]$", Assert.Single(initFds));
            Assert.Equal(["Stdout 0", "Stdout 1", "Stdout 2"], stdout);
            await container.KillAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_container_process_on_a_terminal_has_only_fds_0_1_and_2()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(
            ContainerSpec.For("/bin/sh", "-c", ListOwnFds).WithTerminal(), TestContext.Current.CancellationToken);
        Assert.NotNull(container.Terminal);
        await container.StartAsync(TestContext.Current.CancellationToken);

        var output = await TerminalOutput.ReadToEndAsync(container.Terminal);

        Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        Assert.Equal(["0", "1", "2"], Lines(output));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_exec_process_on_a_terminal_has_only_fds_0_1_and_2()
    {
        using var fixture = new RuntimeFixture();
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);

        await using var exec = await container.ExecAsync(Probe(ListOwnFds) with { Terminal = true }, ContainerStdio.Pipes, TestContext.Current.CancellationToken);
        Assert.NotNull(exec.Terminal);
        var output = await TerminalOutput.ReadToEndAsync(exec.Terminal);

        Assert.Equal(0, (await exec.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
        Assert.Equal(["0", "1", "2"], Lines(output));
    }

    private static ProcessSpec Probe(string script) => new()
    {
        Args = ["/bin/sh", "-c", script],
        Env = ["PATH=" + ContainerSpec.DefaultPath],
    };

    private static string[] Lines(string text) =>
        text.Split(['\n', '\r', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}
