using System.Globalization;
using Containers.Cgroups;
using Containers.IntegrationTests.Security;
using Containers.IntegrationTests.Support;
using Containers.Security;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>containers run --sandbox</c>: the preset's limits by default, the resource flags on top of them.</summary>
public sealed class SandboxRunTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_fork_bomb_under_run_sandbox_stops_at_the_default_pids_limit_or_at_the_one_given()
    {
        Requires.Root();
        var (exitCode, stdout, stderr) = await RunEscapeAsync([], "fork-bomb");

        Assert.True(exitCode == 0, $"exit {exitCode}, stderr: {stderr}");
        Assert.Contains("fork-bomb EAGAIN\n", stdout, StringComparison.Ordinal);
        Assert.InRange(Forked(stdout), SandboxOptions.DefaultPidsLimit - 4, SandboxOptions.DefaultPidsLimit - 1);

        var (_, limited, _) = await RunEscapeAsync(["--pids-limit", "16"], "fork-bomb");
        Assert.Contains("fork-bomb EAGAIN\n", limited, StringComparison.Ordinal);
        Assert.InRange(Forked(limited), 12, 15);
    }

    [Fact(Timeout = 60_000)]
    public async Task Memory_past_run_sandbox_s_default_limit_exits_137_saying_so()
    {
        Requires.Root();
        var (exitCode, stdout, stderr) = await RunEscapeAsync([], "memory=" + (2 * SandboxOptions.DefaultMemoryLimitBytes >> 20).ToString(CultureInfo.InvariantCulture));

        Assert.True(exitCode == 137, $"exit {exitCode}, stdout: {stdout}, stderr: {stderr}");
        Assert.DoesNotContain("memory", stdout, StringComparison.Ordinal);
        Assert.Contains("ran out of memory", stderr, StringComparison.Ordinal);

        var (fitCode, fit, fitErrors) = await RunEscapeAsync(["--memory", "512m"], "memory=300");
        Assert.True(fitCode == 0, $"exit {fitCode}, stderr: {fitErrors}");
        Assert.Contains("memory ESCAPED\n", fit, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_sandbox_is_refused_where_cgroup_v1_cannot_give_a_user_its_limits()
    {
        Requires.NotRoot();
        var layout = CgroupDriver.DetectLayout();
        Assert.SkipUnless(layout is CgroupLayout.Hybrid or CgroupLayout.Legacy,
            $"needs cgroup v1 for a refused rootless sandbox (this host's layout is {layout?.ToString() ?? "none"}; v2 may delegate)");

        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--sandbox", "--host-rootfs", "--", "/bin/echo", "ran");

        Assert.NotEqual(0, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("linux.resources", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>--sandbox-limits none</c>: the rootless way to a sandbox where its limits cannot be applied (cgroup v1 gives
    /// a user who is not root no cgroup of its own). It runs, says on stderr that nothing bounds it, and 300 MiB,
    /// past the preset's 256 MiB, is allocated without an OOM kill.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Run_sandbox_limits_none_runs_a_rootless_sandbox_without_its_limits_and_says_so()
    {
        Requires.NotRoot();
        var (exitCode, stdout, stderr) = await RunEscapeAsync(["--sandbox-limits", "none"], "memory=300");

        Assert.True(exitCode == 0, $"exit {exitCode}, stdout: {stdout}, stderr: {stderr}");
        Assert.Contains("memory ESCAPED\n", stdout, StringComparison.Ordinal);
        Assert.Contains("--sandbox-limits none: the sandbox runs without memory, task and CPU limits", stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sandbox_limits_without_sandbox_or_with_another_value_than_none_is_refused_before_anything_runs()
    {
        var (alone, aloneOut, aloneErrors) = await CliRunner.RunAsync("run", "--sandbox-limits", "none", "--host-rootfs", "--", "/bin/echo", "ran");
        var (other, otherOut, otherErrors) = await CliRunner.RunAsync("run", "--sandbox", "--sandbox-limits", "64m", "--host-rootfs", "--", "/bin/echo", "ran");

        Assert.NotEqual(0, alone);
        Assert.Equal("", aloneOut);
        Assert.Contains("--sandbox-limits goes with --sandbox", aloneErrors, StringComparison.Ordinal);
        Assert.NotEqual(0, other);
        Assert.Equal("", otherOut);
        Assert.Contains("--sandbox-limits '64m': the only value is 'none'", otherErrors, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunEscapeAsync(string[] flags, string attack) =>
        CliRunner.RunAsync(["run", "--sandbox", "--host-rootfs", .. flags, "-v", EscapeProgram.HostDirectory + ":" + EscapeProgram.Directory + ":ro", "--", EscapeProgram.Path, attack]);

    private static int Forked(string stdout)
    {
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("forked ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no count of forks in: {stdout}");
        return int.Parse(line["forked ".Length..], CultureInfo.InvariantCulture);
    }
}
