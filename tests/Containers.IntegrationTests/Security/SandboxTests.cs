using Containers.Cgroups;
using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Security;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>The sandbox preset: a user namespace even for root, nothing to escalate with, limits, and a typed result.</summary>
public sealed class SandboxTests
{
    private const long MiB = 1L << 20;

    /// <summary>
    /// The preset as it is for root. A caller that is not root cannot have its limits on cgroup v1 (that refusal
    /// is a test of its own below), so the tests of everything else run its sandboxes without them.
    /// </summary>
    internal static SandboxOptions Options => Requires.IsRoot ? SandboxOptions.Default : SandboxOptions.Default.WithoutLimits();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_runs_with_no_capability_in_a_user_namespace_on_a_read_only_root_with_only_tmp_writable()
    {
        using var fixture = new RuntimeFixture();
        var sandbox = SandboxProfile.For(Options, "/bin/sh", "-c", """
            grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status | tr -s '\t' ' '
            head -1 /proc/self/uid_map | tr -s ' ' ' '
            touch /usr/x 2>/dev/null || echo root-read-only
            echo written > /tmp/f && cat /tmp/f
            cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '
            """);

        var result = await fixture.Runtime.RunAsync(sandbox.Spec, sandbox.RunOptions, TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["CapPrm: 0000000000000000", "CapEff: 0000000000000000", "CapBnd: 0000000000000000"], lines[..3]);
        var map = lines[3].Trim().Split(' ');
        Assert.Equal("0", map[0]);
        if (Requires.IsRoot)
        {
            // Root's sandbox runs as ids no host user has, not as root.
            Assert.Equal(SandboxOptions.DefaultHostIdStart.ToString(System.Globalization.CultureInfo.InvariantCulture), map[1]);
        }
        else
        {
            Assert.NotEqual("0", map[1]);
        }

        Assert.Equal(["root-read-only", "written", "lo"], lines[4..]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_that_runs_too_long_is_killed_and_one_that_writes_too_much_is_cut()
    {
        using var fixture = new RuntimeFixture();
        var options = Options with { Timeout = TimeSpan.FromSeconds(1), MaxOutputBytes = 4096 };

        var slow = SandboxProfile.For(options, "/bin/sleep", "30");
        var timedOut = await fixture.Runtime.RunAsync(slow.Spec, slow.RunOptions, TestContext.Current.CancellationToken);
        Assert.True(timedOut.TimedOut);
        Assert.NotNull(timedOut.Signal);

        var loud = SandboxProfile.For(options, "/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x");
        var truncated = await fixture.Runtime.RunAsync(loud.Spec, loud.RunOptions, TestContext.Current.CancellationToken);
        Assert.Equal(0, truncated.ExitCode);
        Assert.True(truncated.StdoutTruncated);
        Assert.True(truncated.Stdout.Length <= 4096);
    }

    [Fact(Timeout = 120_000)]
    public async Task Every_attack_fails_in_a_sandbox_too()
    {
        using var fixture = new RuntimeFixture();
        var hostPid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var expected = SandboxOutcomes();
        var sandbox = SandboxProfile.For(Options, [EscapeProgram.Path, .. expected.Keys, "ptrace=" + hostPid, "kill=" + hostPid]);
        expected["ptrace"] = "EPERM"; // the sandbox profile refuses ptrace before the pid is looked up
        expected["kill"] = "ESRCH";

        var result = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(sandbox.Spec), sandbox.RunOptions, TestContext.Current.CancellationToken);

        EscapeProgram.AssertOutcomes(expected, result);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_fork_bomb_in_a_sandbox_stops_at_its_pids_limit()
    {
        Requires.Root();
        using var fixture = new RuntimeFixture();
        var sandbox = SandboxProfile.For(EscapeProgram.Path, "fork-bomb");

        var result = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(sandbox.Spec), sandbox.RunOptions, Token);

        // The program itself is one task of the limit: its children stop one short of it, refused with EAGAIN.
        var forked = Forked(result);
        Assert.Equal("EAGAIN", EscapeProgram.Outcomes(result.Stdout)["fork-bomb"]);
        Assert.InRange(forked, SandboxOptions.DefaultPidsLimit - 4, SandboxOptions.DefaultPidsLimit - 1);

        var smaller = SandboxProfile.For(Options with { PidsLimit = 16 }, EscapeProgram.Path, "fork-bomb");
        var limited = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(smaller.Spec), smaller.RunOptions, Token);
        Assert.Equal("EAGAIN", EscapeProgram.Outcomes(limited.Stdout)["fork-bomb"]);
        Assert.InRange(Forked(limited), 12, 15);
    }

    [Fact(Timeout = 60_000)]
    public async Task Memory_past_a_sandbox_s_limit_is_OOM_killed_and_below_it_lives()
    {
        Requires.Root();
        using var fixture = new RuntimeFixture();

        var greedy = SandboxProfile.For(EscapeProgram.Path, "memory=" + (2 * SandboxOptions.DefaultMemoryLimitBytes / MiB));
        var killed = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(greedy.Spec), greedy.RunOptions, Token);
        Assert.True(killed.OomKilled, $"not OOM-killed: {killed.Exit}, stdout: {killed.Stdout}, stderr: {killed.Stderr}");
        Assert.Equal(9, killed.Signal);
        Assert.DoesNotContain("memory", killed.Stdout, StringComparison.Ordinal);

        var modest = SandboxProfile.For(EscapeProgram.Path, "memory=64");
        var lived = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(modest.Spec), modest.RunOptions, Token);
        Assert.False(lived.OomKilled, lived.Exit.ToString());
        Assert.Equal("ESCAPED", EscapeProgram.Outcomes(lived.Stdout)["memory"]);

        // The caller's own limit, lower than the default: the same 64 MiB no longer fit.
        var tight = SandboxProfile.For(Options with { MemoryLimitBytes = 32 * MiB }, EscapeProgram.Path, "memory=64");
        var tightKilled = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(tight.Spec), tight.RunOptions, Token);
        Assert.True(tightKilled.OomKilled, $"not OOM-killed under 32 MiB: {tightKilled.Exit}, stdout: {tightKilled.Stdout}");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_busy_loop_in_a_sandbox_is_held_to_its_cpu_limit()
    {
        Requires.Root();
        using var fixture = new RuntimeFixture();
        var sandbox = SandboxProfile.For(Options with { Cpus = 0.2 }, "/bin/sh", "-c", "while :; do :; done");
        await using var container = await fixture.Runtime.CreateAsync(null, sandbox.Spec, null, Token);
        await container.StartAsync(Token);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var stats = await container.GetStatsAsync(Token);
        while (stats.Cpu.ThrottledPeriods < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Token);
            stats = await container.GetStatsAsync(Token);
        }

        Assert.True(stats.Cpu.ThrottledPeriods >= 5, $"{stats.Cpu.ThrottledPeriods} throttled periods in 20 s under 0.2 CPUs");
        Assert.True(stats.Cpu.ThrottledTime > TimeSpan.Zero, "no time was spent throttled");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_sandbox_whose_limits_cgroup_v1_cannot_give_a_user_is_refused_before_anything_is_created()
    {
        Requires.NotRoot();
        var layout = CgroupDriver.DetectLayout();
        Assert.SkipUnless(layout is CgroupLayout.Hybrid or CgroupLayout.Legacy,
            $"needs cgroup v1 for a refused rootless sandbox (this host's layout is {layout?.ToString() ?? "none"}; v2 may delegate)");
        using var fixture = new RuntimeFixture();
        var sandbox = SandboxProfile.For("/bin/true");

        var error = await Assert.ThrowsAsync<CgroupException>(() => fixture.Runtime.RunAsync(sandbox.Spec, sandbox.RunOptions, Token));

        Assert.Equal("linux.resources", error.Field);
        Assert.Contains("root", error.Message, StringComparison.Ordinal);
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));

        // Asking for no limits is the way to run it here, and it runs.
        var unlimited = SandboxProfile.For(SandboxOptions.Default.WithoutLimits(), "/bin/true");
        Assert.Equal(0, (await fixture.Runtime.RunAsync(unlimited.Spec, unlimited.RunOptions, Token)).ExitCode);
    }

    private static int Forked(Containers.Runtime.ContainerResult result)
    {
        var line = result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("forked ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no count of forks: {result.Exit}, stdout: {result.Stdout}, stderr: {result.Stderr}");
        return int.Parse(line["forked ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// In a sandbox the same attacks meet a user namespace, an empty capability set and the sandbox seccomp profile,
    /// which refuses chroot, ptrace and TIOCSTI outright. /proc/sys belongs to a host root the sandbox's user
    /// namespace does not map: without CAP_DAC_OVERRIDE, its files refuse writing (EACCES) before the read-only
    /// mount is even reached.
    /// </summary>
    private static Dictionary<string, string> SandboxOutcomes() => new(StringComparer.Ordinal)
    {
        ["fds"] = "contained",
        ["mount"] = "EPERM",
        ["umount"] = "EPERM",
        ["pivot_root"] = "EPERM",
        ["chroot"] = "EPERM",
        ["mknod"] = "EPERM",
        ["disk"] = "ENOENT",
        ["remount-proc-sys"] = "EPERM",
        ["remount-sys"] = "EPERM",
        ["core_pattern"] = "EACCES",
        ["sysrq"] = EscapeTests.Absent("/proc/sysrq-trigger") ?? "EACCES",
        ["cgroup"] = "EPERM",
        ["open_by_handle_at"] = "EPERM",
        ["init_module"] = "EPERM",
        ["finit_module"] = "EPERM",
        ["kexec_load"] = "EPERM",
        ["reboot"] = "EPERM",
        ["bpf"] = "EPERM",
        ["perf_event_open"] = "EPERM",
        ["userfaultfd"] = "EPERM",
        ["keyctl"] = "EPERM",
        ["unshare-user"] = "EPERM",
        ["clone-user"] = "EPERM",
        ["clone3-user"] = "ENOSYS",
        ["unshare-mount"] = "EPERM",
        ["setns"] = "EPERM",
        ["clock_settime"] = "EPERM",
        ["swapon"] = "EPERM",
        ["acct"] = "EPERM",
        ["kcore"] = EscapeTests.Absent("/proc/kcore") ?? "0",
        ["keys"] = "0",
        ["tty"] = "ENXIO",
        ["tiocsti"] = "EPERM",
        ["self-exe"] = "contained",
        ["caps"] = "0000000000000000",
    };
}
