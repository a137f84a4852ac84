using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Security;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>The sandbox preset: a user namespace even for root, nothing to escalate with, and a typed result.</summary>
public sealed class SandboxTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_runs_with_no_capability_in_a_user_namespace_on_a_read_only_root_with_only_tmp_writable()
    {
        using var fixture = new RuntimeFixture();
        var sandbox = SandboxProfile.For("/bin/sh", "-c", """
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
        Assert.Equal(["memory", "pids", "cpu"], sandbox.LimitsNotApplied);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_that_runs_too_long_is_killed_and_one_that_writes_too_much_is_cut()
    {
        using var fixture = new RuntimeFixture();
        var options = new SandboxOptions { Timeout = TimeSpan.FromSeconds(1), MaxOutputBytes = 4096 };

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
        var sandbox = SandboxProfile.For([EscapeProgram.Path, .. expected.Keys, "ptrace=" + hostPid, "kill=" + hostPid]);
        expected["ptrace"] = "EPERM"; // the sandbox profile refuses ptrace before the pid is looked up
        expected["kill"] = "ESRCH";

        var result = await fixture.Runtime.RunAsync(EscapeProgram.WithProgram(sandbox.Spec), sandbox.RunOptions, TestContext.Current.CancellationToken);

        EscapeProgram.AssertOutcomes(expected, result);
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
