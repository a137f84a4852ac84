using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// The escape suite: a static program tries each attack from inside a container as its root (the suite's root pass:
/// a container started by root; its rootless pass: a container in a user namespace of an unprivileged user) and
/// every attempt must fail with the errno of the protection it meets. An attempt that fails for another reason
/// (a missing file instead of a refusal) fails the test as surely as one that succeeds.
/// </summary>
public sealed class EscapeTests
{
    /// <summary>
    /// What each attack meets in a default container: no capability outside Docker's default set (less CAP_MKNOD),
    /// read-only /proc/sys and /sys, masked /proc files, a pid namespace that hides the host, and no terminal.
    /// </summary>
    private static Dictionary<string, string> DefaultOutcomes() => new(StringComparer.Ordinal)
    {
        ["fds"] = "contained",            // only 0-2 reach the container (first: later attacks open fds of their own)
        ["mount"] = "EPERM",              // CAP_SYS_ADMIN dropped
        ["umount"] = "EPERM",
        ["pivot_root"] = "EPERM",
        ["chroot"] = "contained",         // CAP_SYS_CHROOT kept, but pivot_root left nothing above the root
        ["mknod"] = "EPERM",              // CAP_MKNOD left out while no device rules apply
        ["disk"] = "ENOENT",              // /dev has no disk
        ["remount-proc-sys"] = "EPERM",
        ["remount-sys"] = "EPERM",
        // /proc/sys is read-only; rootless, the file's owner (the host's root) is not even mapped: refused before that.
        ["core_pattern"] = Environment.IsPrivilegedProcess ? "EROFS" : "EACCES",
        ["sysrq"] = Absent("/proc/sysrq-trigger") ?? "EROFS",
        ["cgroup"] = "EPERM",             // no cgroup hierarchy, so no release_agent
        ["open_by_handle_at"] = "EPERM",  // shocker: CAP_DAC_READ_SEARCH dropped
        ["init_module"] = "EPERM",
        ["finit_module"] = "EPERM",
        ["kexec_load"] = "EPERM",
        ["reboot"] = "EPERM",
        ["bpf"] = "EPERM",
        ["userfaultfd"] = "EPERM",
        ["unshare-mount"] = "EPERM",
        ["setns"] = "EPERM",
        ["clock_settime"] = "EPERM",
        ["swapon"] = "EPERM",
        ["acct"] = "EPERM",
        ["kcore"] = Absent("/proc/kcore") ?? "0", // masked by /dev/null
        ["keys"] = "0",
        ["tty"] = "ENXIO",                // a session of its own: no controlling terminal
        ["tiocsti"] = "ENOTTY",           // and no terminal on its stdio
        ["self-exe"] = "contained",       // no /proc/PID/exe opens for writing
    };

    /// <summary>
    /// Attacks only a seccomp filter stops: the kernel allows them to a process without capabilities. The default
    /// profile refuses them with EPERM. An i386 call through <c>int 0x80</c> is refused by its i386 number; on a
    /// kernel without IA32 emulation it never gets that far (SIGSEGV, as on the host: the test checks there first).
    /// </summary>
    internal static Dictionary<string, string> SeccompOnlyOutcomes() => new(StringComparer.Ordinal)
    {
        ["perf_event_open"] = "EPERM",
        ["keyctl"] = "EPERM",
        ["unshare-user"] = "EPERM",
        ["clone-user"] = "EPERM",         // clone's flags argument is checked: namespace flags refused
        ["clone3-user"] = "ENOSYS",       // clone3's flags are out of the filter's reach: refused whole, so libc falls back to clone
        ["int80"] = EscapeProgram.RunOnHost("int80-getpid") == "SEGV" ? "SEGV" : "EPERM",
    };

    [Fact(Timeout = 120_000)]
    public async Task Every_attack_fails_with_its_expected_errno_in_a_default_container()
    {
        using var fixture = new RuntimeFixture();
        var hostPid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var expected = DefaultOutcomes().Concat(SeccompOnlyOutcomes()).ToDictionary(StringComparer.Ordinal);
        expected["ptrace=" + hostPid] = "ESRCH"; // the host's processes are not in the container's pid namespace
        expected["kill=" + hostPid] = "ESRCH";

        var result = await fixture.Runtime.RunAsync(EscapeProgram.Spec([.. expected.Keys]), TestContext.Current.CancellationToken);

        EscapeProgram.AssertOutcomes(Rekey(expected), result);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_setuid_root_program_run_by_another_user_under_no_new_privs_gains_nothing()
    {
        Requires.Root();
        using var fixture = new RuntimeFixture();
        var spec = EscapeProgram.Spec().WithUser(1000, 1000);
        spec = spec with { Process = spec.Process! with { Args = [EscapeProgram.Directory + "/escape-suid", "euid"] } };

        var result = await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken);

        EscapeProgram.AssertOutcomes(new Dictionary<string, string> { ["euid"] = "1000" }, result);

        // The same program without no_new_privs does become root: the test can tell the two apart.
        var unprotected = await fixture.Runtime.RunAsync(spec.WithNoNewPrivileges(false).WithSeccomp(null), TestContext.Current.CancellationToken);
        EscapeProgram.AssertOutcomes(new Dictionary<string, string> { ["euid"] = "0" }, unprotected);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_process_exec_d_into_a_running_container_meets_the_same_walls()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(EscapeProgram.WithProgram(ContainerSpec.For("/bin/sleep", "30")), ct);
        await container.StartAsync(ct);
        var expected = DefaultOutcomes().Concat(SeccompOnlyOutcomes()).ToDictionary(StringComparer.Ordinal);

        await using var exec = await container.ExecAsync(container.Spec.Process! with { Args = [EscapeProgram.Path, .. expected.Keys] }, cancellationToken: ct);
        var result = await exec.CollectAsync(ct);

        EscapeProgram.AssertOutcomes(expected, result);
    }

    [Fact(Timeout = 120_000)]
    public async Task Without_the_seccomp_filter_the_seccomp_only_attacks_succeed_so_the_suite_can_tell()
    {
        using var fixture = new RuntimeFixture();

        // The clones first: once unshare-user has succeeded, the process is in a user namespace without a uid map,
        // where no further user namespace can be made.
        var result = await fixture.Runtime.RunAsync(
            EscapeProgram.Spec("clone-user", "clone3-user", "perf_event_open", "keyctl", "unshare-user").WithSeccomp(null), TestContext.Current.CancellationToken);

        EscapeProgram.AssertOutcomes(new Dictionary<string, string>
        {
            ["perf_event_open"] = "ESCAPED", ["keyctl"] = "ESCAPED", ["unshare-user"] = "ESCAPED", ["clone-user"] = "ESCAPED", ["clone3-user"] = "ESCAPED",
        }, result);
    }

    /// <summary>ENOENT for a /proc file this kernel does not have (built without it), so there is nothing to attack.</summary>
    internal static string? Absent(string path) => File.Exists(path) ? null : "ENOENT";

    /// <summary>The program prints an attack's name without its "=argument".</summary>
    private static Dictionary<string, string> Rekey(Dictionary<string, string> expected) =>
        expected.ToDictionary(e => e.Key.Split('=')[0], e => e.Value, StringComparer.Ordinal);
}
