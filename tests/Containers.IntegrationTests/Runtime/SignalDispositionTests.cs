using System.Globalization;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// A container's program starts with every signal at its default and none blocked, although the host ignores some
/// (.NET ignores SIGPIPE) and catches others: the child resets only what an execve keeps (ignored signals), so
/// this is checked on each path that execs a program (a run, containers-init staying as keeper or init, an exec).
/// </summary>
public sealed class SignalDispositionTests
{
    private const int SIGPIPE = 13;

    [Fact(Timeout = 60_000)]
    public async Task A_run_starts_its_program_with_no_signal_ignored_caught_or_blocked()
    {
        using var fixture = new RuntimeFixture();
        AssertHostIgnoresSigpipe();

        var result = await fixture.Runtime.RunAsync(ContainerSpec.For("/bin/cat", "/proc/self/status"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        AssertDefault(result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_init_and_an_exec_start_their_programs_with_no_signal_ignored_caught_or_blocked()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        AssertHostIgnoresSigpipe();

        var container = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/sh", "-c", "cat /proc/self/status; exec sleep 30"),
            new ContainerCreateOptions { Init = true }, ct);
        await using (container)
        {
            await container.StartAsync(ct);
            var exec = await container.ExecAsync(["/bin/cat", "/proc/self/status"], ct);
            var execResult = await exec.CollectAsync(ct);
            Assert.Equal(0, execResult.ExitCode);
            AssertDefault(execResult.Stdout);

            await container.KillAsync(ct);
            var result = await container.CollectAsync(ct);
            AssertDefault(result.Stdout);
        }
    }

    private static void AssertHostIgnoresSigpipe() =>
        Assert.True((Mask(File.ReadAllText("/proc/self/status"), "SigIgn") >> (SIGPIPE - 1) & 1) == 1, "the test host is expected to ignore SIGPIPE, as .NET does");

    private static void AssertDefault(string status)
    {
        Assert.Equal(0UL, Mask(status, "SigIgn"));
        Assert.Equal(0UL, Mask(status, "SigCgt"));
        Assert.Equal(0UL, Mask(status, "SigBlk"));
    }

    private static ulong Mask(string status, string key)
    {
        var line = status.Split('\n').Single(l => l.StartsWith(key + ":", StringComparison.Ordinal));
        return ulong.Parse(line[(key.Length + 1)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
