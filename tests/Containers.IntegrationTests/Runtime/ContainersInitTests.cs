using System.Runtime.Versioning;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// What runs in a container before the user's program: containers-init, exec'd from a sealed memfd. A script whose
/// interpreter is <c>/proc/self/exe</c> runs whatever binary the process that execs it was running (the
/// CVE-2019-5736 trick); here that must be containers-init, which refuses such a command line, never the host's
/// binary (this test executable), on run, exec and with an init.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ContainersInitTests : IDisposable
{
    private const string Refusal = "containers-init: runs only as the last step of a container's start";

    private readonly RuntimeFixture _fixture = new();
    private readonly string _data = Directory.CreateTempSubdirectory("containers-reexec-").FullName;

    public ContainersInitTests()
    {
        var script = Path.Combine(_data, "reexec");
        File.WriteAllText(script, "#!/proc/self/exe\n");
        File.SetUnixFileMode(_data, (UnixFileMode)0x1ed);
        File.SetUnixFileMode(script, (UnixFileMode)0x1ed);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_re_execs_proc_self_exe_finds_containers_init_and_not_the_host_binary()
    {
        var result = await _fixture.Runtime.RunAsync(ReexecSpec(), TestContext.Current.CancellationToken);

        Assert.Equal(127, result.ExitCode);
        Assert.Equal(Refusal, result.Stderr.Trim());
    }

    [Fact(Timeout = 60_000)]
    public async Task With_an_init_a_program_that_re_execs_proc_self_exe_finds_containers_init_too()
    {
        var container = await _fixture.Runtime.CreateAsync(null, ReexecSpec(), new ContainerCreateOptions { Init = true }, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var stderr = new System.Text.StringBuilder();
            await foreach (var line in container.ReadOutputLinesAsync(TestContext.Current.CancellationToken))
            {
                stderr.Append(line.Stream == OutputStream.Stderr ? line.Text : "");
            }

            Assert.Equal(127, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
            Assert.Equal(Refusal, stderr.ToString());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_exec_that_re_execs_proc_self_exe_finds_containers_init_too()
    {
        var container = await _fixture.Runtime.CreateAsync(
            null, ContainerSpec.For("/bin/sleep", "30").WithBindMount(_data, "/data"), null, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            await using var exec = await container.ExecAsync(
                new ProcessSpec { Args = ["/data/reexec"], Env = ["PATH=" + ContainerSpec.DefaultPath] },
                ContainerStdio.Pipes, TestContext.Current.CancellationToken);
            await exec.Stdin.CompleteAsync();
            var result = await exec.CollectAsync(TestContext.Current.CancellationToken);

            Assert.Equal(127, result.ExitCode);
            Assert.Equal(Refusal, result.Stderr.Trim());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_init_shows_nothing_of_the_host_in_its_command_line_environment_or_executable()
    {
        const string Script = """
            tr '\0' '\n' < /proc/1/cmdline; echo ---; tr '\0' '\n' < /proc/1/environ || echo environ-denied; echo ---; readlink /proc/1/exe || echo exe-denied
            """;
        var spec = ContainerSpec.For("/bin/sh", "-c", Script);
        var container = await _fixture.Runtime.CreateAsync(null, spec, new ContainerCreateOptions { Init = true }, TestContext.Current.CancellationToken);
        string stdout;
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            var text = new System.Text.StringBuilder();
            await foreach (var line in container.ReadOutputLinesAsync(TestContext.Current.CancellationToken))
            {
                text.Append(line.Stream == OutputStream.Stdout ? line.Text + "\n" : "");
            }

            Assert.Equal(0, (await container.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
            stdout = text.ToString();
        }

        var parts = stdout.Split("---\n");
        var cmdline = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var environ = parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // containers-init's own arguments, then the program's: nothing from the host's command line.
        Assert.Equal("init", cmdline[0]);
        Assert.Equal(["/bin/sh", "-c", Script], cmdline[^3..]);
        foreach (var hostArg in Environment.GetCommandLineArgs())
        {
            Assert.DoesNotContain(hostArg, cmdline);
        }

        // The init is non-dumpable: its environment and executable are closed to the container's processes.
        Assert.Equal(["environ-denied"], environ);
        Assert.Equal("exe-denied", parts[2].Trim());
        Assert.DoesNotContain(Environment.ProcessPath!, parts[2], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _fixture.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private ContainerSpec ReexecSpec() => ContainerSpec.For("/data/reexec").WithBindMount(_data, "/data");
}
