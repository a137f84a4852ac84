using System.Diagnostics;
using System.Globalization;
using Containers.IntegrationTests.Support;
using Containers.Runtime;

namespace Containers.IntegrationTests.Cli;

public sealed class DetachedContainerTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_detached_container_can_be_listed_exec_into_logged_killed_and_removed()
    {
        var name = "cli-detached-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "-d", "--name", name, "--", "/bin/sh", "-c", "echo to-out; echo to-err >&2; exec sleep 600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            Assert.Equal(name + "\n", run.Stdout);

            var ps = await CliRunner.RunAsync("ps");
            Assert.True(ps.ExitCode == 0, ps.Stderr);
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));

            // 'run -d' returns once the shell runs; it execs sleep after its two echos, so an exec may still see the shell.
            var exec = await CliRunner.RetryAsync(
                () => CliRunner.RunAsync("exec", name, "--", "/bin/sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; exit 4"),
                e => e.Stdout != "sleep 600 " && e.Stdout.StartsWith("/bin/sh ", StringComparison.Ordinal));
            Assert.Equal(4, exec.ExitCode);
            Assert.Equal("sleep 600 ", exec.Stdout);

            // top: the host's ps, only the container's rows (its one process, none of the host's).
            var top = await CliRunner.RunAsync("top", name, "-o", "pid,args");
            Assert.True(top.ExitCode == 0, top.Stderr);
            var rows = top.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["PID", "COMMAND"], rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("sleep 600", Assert.Single(rows.Skip(1)).Trim().Split(' ', 2)[1]);
            var topDefault = await CliRunner.RunAsync("top", name);
            Assert.True(topDefault.ExitCode == 0, topDefault.Stderr);
            Assert.Contains("UID", topDefault.Stdout.Split('\n')[0], StringComparison.Ordinal);
            Assert.Single(topDefault.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1), l => l.EndsWith("sleep 600", StringComparison.Ordinal));

            var logs = await CliRunner.RetryAsync(() => CliRunner.RunAsync("logs", name), l => l.Stdout.Length == 0 || l.Stderr.Length == 0);
            Assert.Equal("to-out\n", logs.Stdout);
            Assert.Equal("to-err\n", logs.Stderr);

            var rm = await CliRunner.RunAsync("rm", name);
            Assert.Equal(125, rm.ExitCode);

            // The program outlives any load: each command line above may take seconds on a busy machine, and a
            // program that had ended by itself would make this kill fail.
            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            var follow = await CliRunner.RunAsync("logs", "-f", name);
            Assert.True(follow.ExitCode == 0, follow.Stderr);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }

        var after = await CliRunner.RunAsync("ps");
        Assert.DoesNotContain(after.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal));
    }

    /// <summary>
    /// Docker's everyday <c>run -dit ... sh</c>, and <c>-dt</c> without <c>-i</c>: the shell gets a terminal the
    /// monitor holds, so it waits for input instead of ending; what it prints is in the log as stdout (a terminal
    /// has one stream, its line ends as the terminal made them); an exec runs beside it.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [InlineData("-dit")]
    [InlineData("-td")]
    [InlineData("-d -t -i")]
    [InlineData("-d -t")]
    public async Task A_detached_container_with_a_terminal_keeps_its_shell_running_logs_what_it_printed_and_can_be_exec_into(string flags)
    {
        var name = "cli-dit-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync(["run", .. flags.Split(' '), "--name", name, "--host-rootfs", "--", "sh", "-c", "echo hello-from-$$; exec sh"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            Assert.Equal(name + "\n", run.Stdout);
            var logs = await CliRunner.RetryAsync(() => CliRunner.RunAsync("logs", name), l => l.Stdout.Length == 0);
            Assert.True(logs.ExitCode == 0, logs.Stderr);
            Assert.Equal("hello-from-1\r\n", logs.Stdout);
            Assert.Equal(string.Empty, logs.Stderr);

            // The shell execs itself after the echo that is in the log: pid 1 is the waiting shell, on the terminal.
            var exec = await CliRunner.RetryAsync(
                () => CliRunner.RunAsync("exec", name, "--", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; readlink /proc/1/fd/0 /proc/1/fd/1 /proc/1/fd/2"),
                e => e.Stdout.StartsWith("sh -c ", StringComparison.Ordinal));
            Assert.True(exec.ExitCode == 0, exec.Stderr);
            Assert.Equal("sh /dev/pts/0\n/dev/pts/0\n/dev/pts/0\n", exec.Stdout);

            var ps = await CliRunner.RunAsync("ps");
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));

            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            var wait = await CliRunner.RunAsync("wait", name);
            Assert.Equal("137\n", wait.Stdout);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Start_a_of_a_container_created_with_t_relays_its_terminal_and_exits_with_its_code()
    {
        var name = "cli-create-t-" + Guid.NewGuid().ToString("N")[..8];
        var create = await CliRunner.RunAsync("create", "-t", "--name", name, "--host-rootfs", "--", "sh", "-c", "echo hi-from-$(tty); exit 3");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            // Stdin is not a terminal here: nothing to type, the output is relayed until the container ends.
            var start = await CliRunner.RunAsync(CliRunner.StartInfo("start", "-a", name), stdin: string.Empty);
            var again = await CliRunner.RunAsync("start", "-a", name);

            Assert.Equal(3, start.ExitCode);
            Assert.Equal("hi-from-/dev/pts/0\r\n", start.Stdout);
            Assert.Contains("hi-from-/dev/pts/0\r\n", (await CliRunner.RunAsync("logs", name)).Stdout, StringComparison.Ordinal);
            Assert.Equal(125, again.ExitCode);
            Assert.Contains("a container runs once", again.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Attach_to_a_container_without_a_terminal_or_not_running_is_refused_with_the_reason()
    {
        var name = "cli-attach-none-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "sleep", "600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            var attach = await CliRunner.RunAsync("attach", name);
            Assert.Equal(125, attach.ExitCode);
            Assert.Contains("has no terminal to attach to", attach.Stderr, StringComparison.Ordinal);

            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            await CliRunner.RunAsync("wait", name);
            var stopped = await CliRunner.RunAsync("attach", name);
            Assert.Equal(125, stopped.ExitCode);
            Assert.Contains("is not running", stopped.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Wait_prints_the_exit_status_the_monitor_records_also_when_the_process_ended_before_it_was_recorded()
    {
        var name = "cli-wait-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "sleep", "600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var state = new StateDirectory(StateDirectory.DefaultRoot()).Read(name);
        var monitor = state.OwnerPid.ToString(CultureInfo.InvariantCulture);

        // The monitor stopped: the container's process ends (a zombie nobody reaps), and its exit status, which only
        // the monitor learns, is not recorded until it goes on.
        await ImageFixtures.RunAsync("kill", "-STOP", monitor);
        try
        {
            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            while (new ProcessIdentity(state.Pid, state.PidStartTime).IsAlive)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            using var wait = Process.Start(CliRunner.StartInfo("wait", name))!;
            var stdout = wait.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = wait.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var exited = wait.WaitForExitAsync(TestContext.Current.CancellationToken);

            // A wait that took the ended process for the whole answer returns now, with no status to print; one that
            // waits for the record is still waiting when the monitor goes on. (Seen still waiting after this pause,
            // it waited; a wait slower to start than the pause is let through either way.)
            var early = await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)) == exited;
            await ImageFixtures.RunAsync("kill", "-CONT", monitor);
            await exited;
            Assert.False(early, $"wait returned before the monitor recorded the exit: exit {wait.ExitCode}, printed '{await stdout}' {await stderr}");
            Assert.True(wait.ExitCode == 0, $"wait exited {wait.ExitCode}: {await stderr}");
            Assert.Equal("137\n", await stdout);
        }
        finally
        {
            // Gone already once it has recorded the exit.
            await ImageFixtures.RunUncheckedAsync("kill", "-CONT", monitor);
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// A command in another pid namespace (here pid 1 of a new one, with its own <c>/proc</c>) opens the same state
    /// directory: none of this namespace's pids is seen from there, so the container's owner and process look dead,
    /// and its sweep must not take that for a leftover and remove a live container.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task A_command_in_another_pid_namespace_leaves_a_running_container_it_cannot_see_alone()
    {
        Requires.Root();
        var unshare = Requires.Tool("unshare");
        var name = "cli-pidns-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "sleep", "600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            // inspect opens the runtime with its sweeps; the container it names does not exist, so it fails after them.
            var open = CliRunner.StartInfo("inspect", "cli-pidns-none");
            var swept = await ImageFixtures.RunUncheckedAsync(unshare, ["--pid", "--fork", "--mount-proc", open.FileName, .. open.ArgumentList, ]);
            Assert.True(swept.Stderr.Contains("no such container", StringComparison.Ordinal), $"the command in a new pid namespace did not run: {swept.Exit} {swept.Stderr}");

            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            var wait = await CliRunner.RunAsync("wait", name);
            Assert.Equal((0, "137\n"), (wait.ExitCode, wait.Stdout));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// From another pid namespace (pid 1 of a new one, with its own <c>/proc</c>) the container's owner and process have
    /// no pid: ps and inspect show the status its owner recorded, not stopped; kill, exec and top, which need its
    /// process, are refused with the reason, and it runs on; a wait from there ends with the exit its owner records.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task A_command_in_another_pid_namespace_sees_a_running_container_as_running_and_cannot_signal_it()
    {
        Requires.Root();
        var unshare = Requires.Tool("unshare");
        var name = "cli-pidns-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--host-rootfs", "--", "sleep", "600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            Task<(int Exit, string Stdout, string Stderr)> InOtherNamespace(params string[] arguments)
            {
                var cli = CliRunner.StartInfo(arguments);
                return ImageFixtures.RunUncheckedAsync(unshare, ["--pid", "--fork", "--mount-proc", cli.FileName, .. cli.ArgumentList]);
            }

            var ps = await InOtherNamespace("ps");
            var inspect = await InOtherNamespace("inspect", name);
            var kill = await InOtherNamespace("kill", name);
            var exec = await InOtherNamespace("exec", name, "true");
            var top = await InOtherNamespace("top", name);
            var here = await CliRunner.RunAsync("inspect", name);

            Assert.True(ps.Exit == 0, ps.Stderr);
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));
            Assert.True(inspect.Exit == 0, inspect.Stderr);
            Assert.Contains("\"Status\": \"running\"", inspect.Stdout, StringComparison.Ordinal);
            foreach (var refused in (ReadOnlySpan<(int Exit, string Stdout, string Stderr)>)[kill, exec, top])
            {
                Assert.NotEqual(0, refused.Exit);
                Assert.Contains("another pid namespace", refused.Stderr, StringComparison.Ordinal);
            }

            Assert.True(here.ExitCode == 0, here.Stderr);
            Assert.Contains("\"Status\": \"running\"", here.Stdout, StringComparison.Ordinal);

            // Killed from here, waited for from there: the owner's record of the exit reaches the other namespace.
            var wait = InOtherNamespace("wait", name);
            var killHere = await CliRunner.RunAsync("kill", name);
            Assert.True(killHere.ExitCode == 0, killHere.Stderr);
            Assert.Equal((0, "137\n"), ((await wait).Exit, (await wait).Stdout));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Run_d_closes_the_containers_stdin_and_run_di_keeps_it_open()
    {
        var closed = "cli-stdin-closed-" + Guid.NewGuid().ToString("N")[..8];
        var open = "cli-stdin-open-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            // cat ends at its input's end: at once without -i; with -i never, while the monitor holds its stdin.
            var runClosed = await CliRunner.RunAsync("run", "-d", "--name", closed, "--host-rootfs", "--", "cat");
            Assert.True(runClosed.ExitCode == 0, runClosed.Stderr);
            var waitClosed = await CliRunner.RunAsync("wait", closed);
            Assert.True(waitClosed.ExitCode == 0, waitClosed.Stderr);
            Assert.Equal("0\n", waitClosed.Stdout);

            var runOpen = await CliRunner.RunAsync("run", "-di", "--name", open, "--host-rootfs", "--", "cat");
            Assert.True(runOpen.ExitCode == 0, runOpen.Stderr);
            // A kill only succeeds on a container that still runs.
            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", open);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            var waitOpen = await CliRunner.RunAsync("wait", open);
            Assert.True(waitOpen.ExitCode == 0, waitOpen.Stderr);
            Assert.Equal("137\n", waitOpen.Stdout);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", closed, open);
        }
    }
}
