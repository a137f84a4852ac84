using System.Diagnostics;
using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Security.Seccomp;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// The seccomp filter by its effect, as root and in the rootless pass: a small static program (seccomp-probe.c,
/// built here with gcc) makes each refused call with arguments the kernel alone would answer with another errno,
/// inside a container with the default profile, and once unconfined to show the difference is the filter's.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SeccompTests : IDisposable
{
    private const int Eperm = 1;
    private const int Enosys = 38;

    /// <summary>Calls the default profile refuses with EPERM.</summary>
    private static readonly string[] Refused =
    [
        "mount", "umount2", "unshare-user", "clone-newns", "setns", "bpf", "perf_event_open", "userfaultfd", "keyctl",
        "add_key", "io_uring_setup", "kexec_load", "init_module", "finit_module", "open_by_handle_at", "socket-vsock",
        "socket-alg", "personality-norandom",
    ];

    private readonly RuntimeFixture _fixture = new();
    private readonly string _bin = Directory.CreateTempSubdirectory("containers-seccomp-").FullName;

    public void Dispose()
    {
        _fixture.Dispose();
        Directory.Delete(_bin, recursive: true);
    }

    [Fact(Timeout = 120_000)]
    public async Task In_a_default_container_each_dangerous_call_fails_with_EPERM_and_clone3_and_newer_calls_with_ENOSYS()
    {
        var results = await ProbeAsync(ContainerSpec.For("/probe/seccomp-probe"), [.. Refused, "clone3", "newer", "socket-inet", "personality-query", "getpid"]);

        foreach (var name in Refused)
        {
            Assert.True(results[name] == Eperm.ToString(), $"{name}: {results[name]} instead of EPERM");
        }

        Assert.Equal(Enosys.ToString(), results["clone3"]);
        Assert.Equal(Enosys.ToString(), results["newer"]);
        Assert.Equal("22", results["socket-inet"]); // allowed: the kernel's own EINVAL for the bad type
        Assert.Equal("0", results["personality-query"]);
        Assert.Equal("0", results["getpid"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Unconfined_the_same_calls_get_the_kernels_own_answers()
    {
        var results = await ProbeAsync(ContainerSpec.For("/probe/seccomp-probe").WithSeccomp(null), [.. Refused, "clone3"]);

        // Without the filter the kernel answers these bad arguments itself (EINVAL, EFAULT, EBADF, ENOSYS, ...):
        // not one of them with the filter's EPERM.
        var eperm = Refused.Where(n => results[n] == Eperm.ToString()).ToList();
        Assert.True(eperm.Count <= 2, "EPERM without a filter: " + string.Join(", ", eperm));
        Assert.NotEqual(Enosys.ToString(), results["clone3"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_i386_call_through_int_0x80_is_filtered_by_its_i386_number()
    {
        var host = RunOnHost("int80-getpid");
        Assert.SkipWhen(host.StartsWith("int80-getpid signal", StringComparison.Ordinal),
            "this kernel runs no i386 code (IA32 emulation off): int 0x80 faults before any filter; the compiler's i386 section is tested with the BPF interpreter");

        var results = await ProbeAsync(ContainerSpec.For("/probe/seccomp-probe"), ["int80-getpid", "int80-mount"]);

        Assert.Equal("0", results["int80-getpid"]);
        Assert.Equal(Eperm.ToString(), results["int80-mount"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_sandbox_profile_refuses_more_and_a_shell_still_runs_under_it()
    {
        var results = await ProbeAsync(ContainerSpec.For("/probe/seccomp-probe").WithSeccomp(SeccompProfiles.Sandbox), ["mount", "socket-inet", "getpid"]);
        var shell = await _fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "ls / > /dev/null && cat /etc/hostname > /dev/null; echo done").WithSeccomp(SeccompProfiles.Sandbox),
            TestContext.Current.CancellationToken);

        Assert.Equal(Eperm.ToString(), results["mount"]);
        Assert.Equal("22", results["socket-inet"]);
        Assert.True(shell.ExitCode == 0, shell.Stderr);
        Assert.Equal("done", shell.Stdout.Trim());
    }

    [Fact(Timeout = 120_000)]
    public async Task An_ordinary_workload_runs_under_the_default_profile()
    {
        const string Script = "set -e; ls -la / > /dev/null; mkdir -p /tmp/a/b; echo x > /tmp/a/b/f; cat /tmp/a/b/f; "
            + "sh -c 'exit 3' || echo child $?; sleep 0.01 & wait; id -u > /dev/null; ps > /dev/null 2>&1 || true; echo ok";
        var result = await _fixture.Runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", Script), TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(["x", "child 3", "ok"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_process_execd_into_a_running_container_gets_the_filter_too()
    {
        BuildProbe();
        var spec = ContainerSpec.For("/bin/sleep", "30").WithBindMount(_bin, "/probe", readOnly: true);
        var container = await _fixture.Runtime.CreateAsync(null, spec, null, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            await using var exec = await container.ExecAsync(
                new ProcessSpec { Args = ["/probe/seccomp-probe", "mount", "bpf", "clone3"], Env = ["PATH=" + ContainerSpec.DefaultPath], NoNewPrivileges = true },
                ContainerStdio.Pipes, TestContext.Current.CancellationToken);
            await exec.Stdin.CompleteAsync();
            var result = await exec.CollectAsync(TestContext.Current.CancellationToken);

            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(["mount 1", "bpf 1", "clone3 38"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_profile_that_refuses_what_the_start_needs_is_refused_before_anything_starts()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new() { Names = ["execveat", "close_range"], Action = "SCMP_ACT_ERRNO" }],
        };

        var before = StateEntries.Of(_fixture.StateDirectory);

        var error = await Assert.ThrowsAsync<InvalidSpecException>(
            () => _fixture.Runtime.RunAsync(ContainerSpec.For("/bin/true").WithSeccomp(profile), TestContext.Current.CancellationToken));

        Assert.Contains("close_range, execveat", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, StateEntries.Of(_fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_profile_with_a_kill_action_kills_the_process_that_makes_the_call()
    {
        var profile = SeccompProfiles.Default with
        {
            // Before the default's allow list: the first rule without conditions for a call decides.
            Syscalls = [new() { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_KILL_PROCESS" }, .. SeccompProfiles.Default.Syscalls],
        };

        var result = await _fixture.Runtime.RunAsync(ContainerSpec.For("/bin/mkdir", "/tmp/x").WithSeccomp(profile), TestContext.Current.CancellationToken);

        Assert.Equal(128 + 31, result.Exit.ShellStatus); // SIGSYS: the signal, or 128 + it as an init or keeper reports it
    }

    [Fact(Timeout = 120_000)]
    public async Task A_notify_rule_hands_connect_to_a_dotnet_callback_that_vetoes_one_address()
    {
        var calls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var options = new ContainerCreateOptions
        {
            SeccompNotify = call =>
            {
                Span<byte> address = stackalloc byte[8]; // sockaddr_in: family, port, address
                var read = call.ReadMemory(call.Arguments[1], address);
                var target = $"{address[4]}.{address[5]}.{address[6]}.{address[7]}:{(address[2] << 8) | address[3]}";
                calls.Enqueue($"{call.SyscallName} {target}");
                return read == 8 && target == "127.0.0.1:9" ? SeccompNotifyResponse.Deny(13) : SeccompNotifyResponse.Allow;
            },
        };
        var profile = SeccompProfiles.Default with
        {
            Syscalls = [new() { Names = ["connect"], Action = "SCMP_ACT_NOTIFY" }, .. SeccompProfiles.Default.Syscalls],
        };

        var results = await ProbeAsync(ContainerSpec.For("/probe/seccomp-probe").WithSeccomp(profile), ["connect-127.0.0.1", "connect-127.0.0.2", "mount"], options);

        Assert.Equal("13", results["connect-127.0.0.1"]);  // EACCES from the callback
        Assert.Equal("111", results["connect-127.0.0.2"]); // allowed: the kernel's ECONNREFUSED
        Assert.Equal(Eperm.ToString(), results["mount"]);  // the rest of the profile still holds
        Assert.Equal(["connect 127.0.0.1:9", "connect 127.0.0.2:9"], calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_notify_rule_without_a_callback_is_refused_before_anything_starts()
    {
        var profile = SeccompProfiles.Default with
        {
            Syscalls = [new() { Names = ["connect"], Action = "SCMP_ACT_NOTIFY" }, .. SeccompProfiles.Default.Syscalls],
        };

        var error = await Assert.ThrowsAsync<InvalidSpecException>(
            () => _fixture.Runtime.RunAsync(ContainerSpec.For("/bin/true").WithSeccomp(profile), TestContext.Current.CancellationToken));

        Assert.Contains("SeccompNotify", error.Message, StringComparison.Ordinal);
    }

    private async Task<Dictionary<string, string>> ProbeAsync(ContainerSpec spec, string[] probes, ContainerCreateOptions? options = null)
    {
        BuildProbe();
        spec = spec.WithBindMount(_bin, "/probe", readOnly: true) with { Process = spec.Process! with { Args = [spec.Process.Args[0], .. probes] } };
        var result = await _fixture.Runtime.Prepare(spec, options).RunAsync(TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, $"probe exited {result.ExitCode}: {result.Stderr}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(probes.Order(), lines.Keys.Order());
        return lines;
    }

    private string RunOnHost(string probe)
    {
        BuildProbe();
        using var process = Process.Start(new ProcessStartInfo(Path.Combine(_bin, "seccomp-probe"), probe) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private void BuildProbe()
    {
        var binary = Path.Combine(_bin, "seccomp-probe");
        if (File.Exists(binary))
        {
            return;
        }

        var gcc = Requires.Tool("gcc");
        var source = Path.Combine(AppContext.BaseDirectory, "Security", "seccomp-probe.c");
        using var process = Process.Start(new ProcessStartInfo(gcc, ["-static", "-O2", "-o", binary, source]) { RedirectStandardError = true })!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "gcc -static seccomp-probe.c failed (needs libc6-dev): " + errors);
        File.SetUnixFileMode(_bin, (UnixFileMode)0x1ed);
    }
}
