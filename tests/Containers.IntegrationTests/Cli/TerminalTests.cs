using System.Diagnostics;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>run -it</c> and <c>exec -it</c> in a real terminal: tmux types into it and reads its screen.</summary>
public sealed class TerminalTests
{
    [Fact(Timeout = 300_000)]
    public async Task Run_it_and_exec_it_give_a_raw_terminal_that_follows_resizes_and_gets_ctrl_c_then_restore_it()
    {
        await using var pane = await TmuxPane.StartAsync();
        var (tmux, socket, session, dir) = (pane.Tmux, pane.Socket, TmuxPane.Session, pane.Directory);
        var execTarget = "cli-exec-tty-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await pane.TypeAsync(CommandLine("run", "-it", "--host-rootfs", "--", "sh"));
            await pane.TypeAsync("echo in-container-$$");
            await pane.ScreenAsync("in-container-1");

            await pane.TypeAsync("stty size");
            await pane.ScreenAsync("24 80");
            await RunAsync(tmux, "-S", socket, "resize-window", "-t", session, "-x", "100", "-y", "30");
            // The resize reaches the container after the CLI's signal thread has run, which on a busy machine can
            // be after a stty typed at once: stty is asked again (up to 20 times) until the new size shows.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                await pane.TypeAsync("stty size");
                if (await pane.AppearsAsync("30 100", attempts: 30))
                {
                    break;
                }
            }

            await pane.ScreenAsync("30 100");

            // Ctrl-C is a byte for the container's terminal: it interrupts sleep there, and the CLI stays.
            await pane.TypeAsync("sleep 3607");
            await WaitForProcessAsync("sleep", "3607");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-c");
            await pane.TypeAsync("echo interrupted-$?-in-$$");
            await pane.ScreenAsync("interrupted-130-in-1");

            // Typed only once the command has exited: until then every key goes to the container.
            await pane.TypeAsync("exit 5");
            await pane.ScreenAsync("host$");
            await pane.TypeAsync($"echo cli-exited-$?; stty -g > {dir}/after");
            await pane.ScreenAsync("cli-exited-5");
            await WaitForFileAsync(Path.Combine(dir, "after"));

            Assert.Equal(
                await File.ReadAllTextAsync(Path.Combine(dir, "before"), TestContext.Current.CancellationToken),
                await File.ReadAllTextAsync(Path.Combine(dir, "after"), TestContext.Current.CancellationToken));

            // exec -it into a detached container: a terminal of its own, the window's size, Ctrl-C inside, restored after.
            var detached = await CliRunner.RunAsync("run", "-d", "--name", execTarget, "--host-rootfs", "--", "sleep", "300");
            Assert.True(detached.ExitCode == 0, detached.Stderr);
            await pane.TypeAsync(CommandLine("exec", "-it", execTarget, "sh"));
            await pane.TypeAsync("test -t 0 && test -t 1 && echo exec-on-a-terminal");
            await pane.ScreenAsync("exec-on-a-terminal");
            await pane.TypeAsync("stty size");
            await pane.ScreenAsync("30 100");
            await pane.TypeAsync("sleep 3608");
            await WaitForProcessAsync("sleep", "3608");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-c");
            await pane.TypeAsync("echo exec-interrupted-$?");
            await pane.ScreenAsync("exec-interrupted-130");
            await pane.TypeAsync("exit 6");
            await pane.ScreenAsync("host$");
            await pane.TypeAsync($"echo exec-exited-$?; stty -g > {dir}/after-exec");
            await pane.ScreenAsync("exec-exited-6");
            await WaitForFileAsync(Path.Combine(dir, "after-exec"));
            Assert.Equal(
                await File.ReadAllTextAsync(Path.Combine(dir, "before"), TestContext.Current.CancellationToken),
                await File.ReadAllTextAsync(Path.Combine(dir, "after-exec"), TestContext.Current.CancellationToken));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", execTarget);
        }
    }

    /// <summary>
    /// <c>attach</c> to a <c>run -dit</c> shell: what is typed in the pane runs there, its output shows in the pane and
    /// in the log; a second attach is refused while one is there; Ctrl-P Ctrl-Q detaches (exit 1, as Docker's) and
    /// leaves it running; a later attach gets the window's size, and ends with the shell, with its exit code.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Attach_to_a_run_dit_shell_types_into_it_shows_its_output_detaches_with_ctrl_p_ctrl_q_and_ends_with_it()
    {
        await using var pane = await TmuxPane.StartAsync();
        var (tmux, socket, session) = (pane.Tmux, pane.Socket, TmuxPane.Session);
        var name = "cli-attach-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var run = await CliRunner.RunAsync("run", "-dit", "--name", name, "--host-rootfs", "--", "sh");
            Assert.True(run.ExitCode == 0, run.Stderr);

            await pane.TypeAsync(CommandLine("attach", name));
            await pane.TypeAsync("echo attached-$((6*7))-in-$$");
            await pane.ScreenAsync("attached-42-in-1");
            var logs = await CliRunner.RetryAsync(() => CliRunner.RunAsync("logs", name), l => !l.Stdout.Contains("attached-42-in-1\r\n", StringComparison.Ordinal));
            Assert.Contains("attached-42-in-1\r\n", logs.Stdout, StringComparison.Ordinal);

            var second = await CliRunner.RunAsync("attach", name);
            Assert.Equal(125, second.ExitCode);
            Assert.Contains("attached already", second.Stderr, StringComparison.Ordinal);

            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-p", "C-q");
            await pane.ScreenAsync("read escape sequence");
            await pane.TypeAsync("echo detached-$?");
            await pane.ScreenAsync("detached-1");
            var ps = await CliRunner.RunAsync("ps");
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));
            var exec = await CliRunner.RunAsync("exec", name, "--", "sh", "-c", "echo exec-beside-$$");
            Assert.True(exec.ExitCode == 0, exec.Stderr);

            await RunAsync(tmux, "-S", socket, "resize-window", "-t", session, "-x", "100", "-y", "30");
            await pane.TypeAsync(CommandLine("attach", name));
            await pane.TypeAsync("stty size");
            await pane.ScreenAsync("30 100");
            await pane.TypeAsync("exit 3");
            // Typed only once the command has exited: until then every key goes to the container.
            await pane.ScreenAsync("host$");
            await pane.TypeAsync("echo attach-exited-$?");
            await pane.ScreenAsync("attach-exited-3");
            var wait = await CliRunner.RunAsync("wait", name);
            Assert.Equal("3\n", wait.Stdout);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// <c>create -it</c>, then <c>start -ai</c> as Docker users do: the start attaches first, so the shell's first prompt
    /// reaches this terminal; typed lines run in the container, and the command ends with the shell's exit code.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Start_ai_of_a_container_created_with_it_attaches_this_terminal_from_its_first_prompt()
    {
        await using var pane = await TmuxPane.StartAsync();
        var name = "cli-start-ai-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var create = await CliRunner.RunAsync("create", "-it", "--name", name, "-e", "PS1=in-box$ ", "--host-rootfs", "--", "sh");
            Assert.True(create.ExitCode == 0, create.Stderr);

            await pane.TypeAsync(CommandLine("start", "-ai", name));
            await pane.ScreenAsync("in-box$");
            await pane.TypeAsync("echo started-$((6*7))-in-$$-on-$(tty)");
            await pane.ScreenAsync("started-42-in-1-on-/dev/pts/0");
            await pane.TypeAsync("exit 4");
            await pane.ScreenAsync("host$");
            await pane.TypeAsync("echo start-exited-$?");
            await pane.ScreenAsync("start-exited-4");
            Assert.Equal("4\n", (await CliRunner.RunAsync("wait", name)).Stdout);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// <c>attach --detach-keys ctrl-a,x</c> to a <c>run -dit</c> line reader that prints each line's bytes in hex: a Ctrl-A
    /// broken by another key reaches the container with that key, Ctrl-P is an ordinary key now, and Ctrl-A x detaches
    /// (exit 1) and leaves the container running.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Attach_with_detach_keys_passes_a_broken_prefix_on_and_detaches_on_the_whole_sequence()
    {
        await using var pane = await TmuxPane.StartAsync();
        var (tmux, socket, session) = (pane.Tmux, pane.Socket, TmuxPane.Session);
        var name = "cli-detach-keys-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var run = await CliRunner.RunAsync(
                "run", "-dit", "--name", name, "--host-rootfs", "--", "sh", "-c", "while read -r l; do echo \"got-$(printf %s \"$l\" | od -An -tx1 | tr -d ' ')\"; done");
            Assert.True(run.ExitCode == 0, run.Stderr);

            await pane.TypeAsync(CommandLine("attach", "--detach-keys", "ctrl-a,x", name));
            await pane.TypeAsync("ready");
            await pane.ScreenAsync("got-7265616479");

            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-a", "y", "Enter");
            await pane.ScreenAsync("got-0179");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-p", "Enter");
            await pane.ScreenAsync("got-10");

            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-a", "x");
            await pane.ScreenAsync("read escape sequence");
            await pane.TypeAsync("echo detached-$?");
            await pane.ScreenAsync("detached-1");
            var ps = await CliRunner.RunAsync("ps");
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));

            // Attached again with the default keys: an empty line shows that neither the Ctrl-A nor the x of the
            // sequence reached the container; Ctrl-P Ctrl-Q detaches again. The screen is cleared first, so the second
            // detach's line is not the first one's.
            await pane.TypeAsync("printf '\\033[2J\\033[H'; echo cleared");
            await pane.ScreenAsync("cleared");
            await pane.TypeAsync(CommandLine("attach", name));
            await pane.TypeAsync(string.Empty);
            await pane.ScreenAsync("got-");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-p", "C-q");
            await pane.ScreenAsync("read escape sequence");
            await pane.TypeAsync("echo detached-again-$?");
            await pane.ScreenAsync("detached-again-1");
            var logs = await CliRunner.RetryAsync(() => CliRunner.RunAsync("logs", name), l => !l.Stdout.Contains("got-\r\n", StringComparison.Ordinal));
            Assert.Equal(
                ["got-7265616479", "got-0179", "got-10", "got-"],
                logs.Stdout.Split("\r\n").Where(l => l.StartsWith("got-", StringComparison.Ordinal)));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// <c>start -ai --detach-keys ctrl-@</c> of a <c>create -it</c> shell: the one key detaches (exit 1), and the shell,
    /// started by that command, goes on running.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Start_ai_with_a_one_key_detach_sequence_detaches_and_leaves_the_started_container_running()
    {
        await using var pane = await TmuxPane.StartAsync();
        var name = "cli-start-detach-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            // The shell's prompt is "# ", after which the screen shows the detach's line.
            var create = await CliRunner.RunAsync("create", "-it", "--name", name, "--host-rootfs", "--", "sh");
            Assert.True(create.ExitCode == 0, create.Stderr);

            await pane.TypeAsync(CommandLine("start", "-ai", "--detach-keys", "ctrl-@", name));
            await pane.TypeAsync("echo started-$((6*7))-in-$$");
            await pane.ScreenAsync("started-42-in-1");
            await RunAsync(pane.Tmux, "-S", pane.Socket, "send-keys", "-t", TmuxPane.Session, "C-@");
            await pane.ScreenAsync("read escape sequence");
            await pane.TypeAsync("echo start-detached-$?");
            await pane.ScreenAsync("start-detached-1");
            var ps = await CliRunner.RunAsync("ps");
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary><c>attach</c> to a <c>run -dt</c> container (no <c>-i</c>): its output shows; Ctrl-P Ctrl-Q detaches.</summary>
    [Fact(Timeout = 300_000)]
    public async Task Attach_to_a_run_dt_container_shows_its_output_and_detaches_with_ctrl_p_ctrl_q()
    {
        await using var pane = await TmuxPane.StartAsync();
        var name = "cli-attach-dt-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var run = await CliRunner.RunAsync("run", "-dt", "--name", name, "--host-rootfs", "--", "sh", "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; done");
            Assert.True(run.ExitCode == 0, run.Stderr);

            await pane.TypeAsync(CommandLine("attach", name));
            // Ticks printed after the attach began (the ones before are only in the log).
            var screen = string.Empty;
            for (var attempt = 0; attempt < 600 && !screen.Split('\n').Any(l => l.StartsWith("tick-", StringComparison.Ordinal)); attempt++)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
                screen = await RunAsync(pane.Tmux, "-S", pane.Socket, "capture-pane", "-p", "-t", TmuxPane.Session);
            }

            Assert.Contains(screen.Split('\n'), l => l.StartsWith("tick-", StringComparison.Ordinal));

            await RunAsync(pane.Tmux, "-S", pane.Socket, "send-keys", "-t", TmuxPane.Session, "C-p", "C-q");
            await pane.ScreenAsync("read escape sequence");
            var ps = await CliRunner.RunAsync("ps");
            Assert.Contains(ps.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// The terminal of a foreground <c>run -it</c> hangs up (tmux's server is killed: the pane's pseudo-terminal is
    /// closed). The container's pid 1 gets the SIGHUP, ignores it as an interactive shell would (it records it and goes
    /// on), and is killed after the grace period; the command ends and its foreground container is gone.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Run_it_whose_terminal_hangs_up_forwards_sighup_then_kills_a_container_that_stays()
    {
        var pane = await TmuxPane.StartAsync();
        var name = "cli-hup-" + Guid.NewGuid().ToString("N")[..8];
        var shared = Path.Combine(pane.Directory, "shared");
        Directory.CreateDirectory(shared);
        // A mark no other process has in its command line, to find the container's pid 1 by.
        var mark = "hup-mark-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            // Ready only once the trap is set: a SIGHUP before it would end the shell instead of being recorded.
            var script = $"trap 'echo hup >> /shared/got' HUP; echo ready > /shared/ready; while :; do sleep 1; done; : {mark}";
            await pane.TypeAsync(CommandLine("run", "-it", "--name", name, "-v", shared + ":/shared", "--host-rootfs", "--", "sh", "-c", script));
            await WaitForFileAsync(Path.Combine(shared, "ready"));
            var container = ProcessesWith(mark);
            Assert.NotEmpty(container);
            var cli = Descendants(pane.ShellPid).Where(pid => CommandLineOf(pid).Contains(name, StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(cli);

            await pane.KillServerAsync();

            // Forwarded, seen by the trap, which keeps the shell running; then killed, and the command ends.
            await WaitForFileAsync(Path.Combine(shared, "got"));
            await WaitUntilGoneAsync(container, mark);
            await WaitUntilGoneAsync(cli, name);
            var listed = await CliRunner.RunAsync("ps", "-a", "--format", "json");
            Assert.DoesNotContain(name, listed.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await pane.DisposeAsync();
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// A SIGHUP sent to a foreground <c>run -it</c> while its terminal is still there (a reload, say): forwarded to the
    /// container, whose pid 1 handles it and goes on, and nothing more. Seen running well after the grace period a
    /// hung-up terminal gets, it was not killed; it ends when it is told to.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Run_it_only_forwards_a_sighup_sent_while_its_terminal_is_there()
    {
        await using var pane = await TmuxPane.StartAsync();
        var name = "cli-hup-fwd-" + Guid.NewGuid().ToString("N")[..8];
        var shared = Path.Combine(pane.Directory, "shared");
        Directory.CreateDirectory(shared);
        var mark = "hup-fwd-mark-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var script = $"trap 'echo hup >> /shared/got' HUP; echo ready > /shared/ready; while :; do sleep 1; done; : {mark}";
            await pane.TypeAsync(CommandLine("run", "-it", "--name", name, "-v", shared + ":/shared", "--host-rootfs", "--", "sh", "-c", script));
            await WaitForFileAsync(Path.Combine(shared, "ready"));
            var container = ProcessesWith(mark);
            Assert.NotEmpty(container);
            var cli = Assert.Single(Descendants(pane.ShellPid), pid => CommandLineOf(pid).Contains(name, StringComparison.Ordinal));

            await RunAsync("kill", "-HUP", cli.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await WaitForFileAsync(Path.Combine(shared, "got"));
            await Task.Delay(HangupGrace + TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            Assert.NotEmpty(ProcessesWith(mark));
            Assert.Contains(name, CommandLineOf(cli), StringComparison.Ordinal);

            var kill = await CliRunner.RunAsync("kill", "-s", "KILL", name);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            await WaitUntilGoneAsync([cli], name);
            await pane.TypeAsync("echo run-exited-$?");
            await pane.ScreenAsync("run-exited-137");
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>
    /// The terminal of an <c>exec -it</c> hangs up. The exec'd process, whose terminal is the container's, gets the
    /// SIGHUP from the command, ignores it (it records it and goes on), and is killed after the grace period; the
    /// command ends, and the container it ran in goes on running.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Exec_it_whose_terminal_hangs_up_forwards_sighup_then_kills_the_process_that_stays()
    {
        var pane = await TmuxPane.StartAsync();
        var name = "cli-exec-hup-" + Guid.NewGuid().ToString("N")[..8];
        var shared = Path.Combine(pane.Directory, "shared");
        Directory.CreateDirectory(shared);
        var mark = "exec-hup-mark-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var detached = await CliRunner.RunAsync("run", "-d", "--name", name, "-v", shared + ":/shared", "--host-rootfs", "--", "sleep", "600");
            Assert.True(detached.ExitCode == 0, detached.Stderr);
            var script = $"trap 'echo hup >> /shared/got' HUP; echo ready > /shared/ready; while :; do sleep 1; done; : {mark}";
            await pane.TypeAsync(CommandLine("exec", "-it", name, "sh", "-c", script));
            await WaitForFileAsync(Path.Combine(shared, "ready"));
            var exec = ProcessesWith(mark);
            Assert.NotEmpty(exec);
            var cli = Descendants(pane.ShellPid).Where(pid => CommandLineOf(pid).Contains(name, StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(cli);

            await pane.KillServerAsync();

            await WaitForFileAsync(Path.Combine(shared, "got"));
            await WaitUntilGoneAsync(exec, mark);
            await WaitUntilGoneAsync(cli, name);
            var listed = await CliRunner.RunAsync("ps");
            Assert.Contains(listed.Stdout.Split('\n'), l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal));
        }
        finally
        {
            await pane.DisposeAsync();
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>How long the command line gives a process after its terminal hung up (HangupForwarding.GracePeriod).</summary>
    private static readonly TimeSpan HangupGrace = TimeSpan.FromSeconds(10);

    /// <summary>The command line as a shell would be given it, single-quoted.</summary>
    private static string CommandLine(params string[] args)
    {
        var start = CliRunner.StartInfo(args);
        return string.Join(' ', new[] { start.FileName }.Concat(start.ArgumentList).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
    }

    /// <summary>Waits until <c>stty -g</c>'s line is complete in <paramref name="path"/> (a loaded machine may take seconds).</summary>
    private static async Task WaitForFileAsync(string path)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (File.Exists(path) && (await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken)).EndsWith('\n'))
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{path} was not written");
    }

    /// <summary>
    /// Waits until a process runs exactly <paramref name="argv"/> (an argument no other test uses): a Ctrl-C sent
    /// before the shell has started it would interrupt the shell's own read instead.
    /// </summary>
    private static async Task WaitForProcessAsync(params string[] argv)
    {
        var wanted = string.Join('\0', argv) + "\0";
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
            {
                try
                {
                    if (await File.ReadAllTextAsync(Path.Combine(process, "cmdline"), TestContext.Current.CancellationToken) == wanted)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone meanwhile, or not ours to read.
                }
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"no process ran '{string.Join(' ', argv)}'");
    }

    /// <summary>The processes below <paramref name="pid"/>, children before their own children.</summary>
    private static List<int> Descendants(int pid)
    {
        var found = new List<int>();
        try
        {
            foreach (var child in File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var id = int.Parse(child, System.Globalization.CultureInfo.InvariantCulture);
                found.Add(id);
                found.AddRange(Descendants(id));
            }
        }
        catch (IOException)
        {
            // Exited meanwhile.
        }

        return found;
    }

    /// <summary>The processes whose command line contains <paramref name="mark"/>.</summary>
    private static List<int> ProcessesWith(string mark) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(n => n is { Length: > 0 } && char.IsAsciiDigit(n[0]))
            .Select(n => int.Parse(n!, System.Globalization.CultureInfo.InvariantCulture))
            .Where(pid => CommandLineOf(pid).Contains(mark, StringComparison.Ordinal))];

    private static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>Waits (up to two minutes) until none of <paramref name="pids"/> runs a command line with <paramref name="mark"/> any more.</summary>
    private static async Task WaitUntilGoneAsync(List<int> pids, string mark)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (!pids.Any(pid => CommandLineOf(pid).Contains(mark, StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"processes {string.Join(", ", pids)} ({mark}) still run");
    }

    /// <summary>
    /// A shell (<c>PS1='host$ '</c>) in a new tmux server of its own (no configuration file), 80×24, with its
    /// terminal's settings saved in <c>before</c> in <see cref="Directory"/>. Disposing kills what the pane started,
    /// then the server.
    /// </summary>
    private sealed class TmuxPane : IAsyncDisposable
    {
        public const string Session = "tty";

        private TmuxPane(string tmux, string directory)
        {
            Tmux = tmux;
            Directory = directory;
            Socket = Path.Combine(directory, "tmux.sock");
        }

        public string Tmux { get; }

        public string Socket { get; }

        public string Directory { get; }

        public int ShellPid { get; private set; }

        // A server that did not come up is started again (three starts in all), with what tmux said and showed in
        // the test's output.
        public static async Task<TmuxPane> StartAsync()
        {
            var pane = new TmuxPane(Requires.Tool("tmux"), System.IO.Directory.CreateTempSubdirectory("containers-tty-").FullName);
            for (var start = 1; ; start++)
            {
                await RunAsync(pane.Tmux, "-S", pane.Socket, "-f", "/dev/null", "new-session", "-d", "-s", Session, "-x", "80", "-y", "24", "sh");
                await pane.TypeAsync($"PS1='host$ '; stty -g > {pane.Directory}/before; echo host-ready");
                if (start == 3 || await pane.AppearsAsync("host-ready", attempts: 200))
                {
                    break;
                }

                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"tmux shell not ready (start {start}): {await RunAsync(pane.Tmux, "-S", pane.Socket, "list-sessions")}; screen:\n{await RunAsync(pane.Tmux, "-S", pane.Socket, "capture-pane", "-p", "-t", Session)}");
                await RunAsync(pane.Tmux, "-S", pane.Socket, "kill-server");
            }

            await pane.ScreenAsync("host-ready");
            pane.ShellPid = int.Parse((await RunAsync(pane.Tmux, "-S", pane.Socket, "list-panes", "-t", Session, "-F", "#{pane_pid}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            return pane;
        }

        public Task TypeAsync(string line) => RunAsync(Tmux, "-S", Socket, "send-keys", "-t", Session, "-l", line + "\r");

        public async Task ScreenAsync(string expected)
        {
            if (!await AppearsAsync(expected, attempts: 600))
            {
                Assert.Fail($"'{expected}' did not appear on the screen:\n{await RunAsync(Tmux, "-S", Socket, "capture-pane", "-p", "-t", Session)}");
            }
        }

        public async Task<bool> AppearsAsync(string expected, int attempts)
        {
            for (var attempt = 0; attempt < attempts; attempt++)
            {
                var screen = await RunAsync(Tmux, "-S", Socket, "capture-pane", "-p", "-t", Session);
                // Output lines, alone or after a prompt the shell printed first (never the typed command's echo):
                // keys typed before the shell's first prompt are echoed by the terminal, then the prompt ("# " as root,
                // "$ " otherwise) and the command's output share a line.
                if (screen.Split('\n').Any(l => l.TrimEnd() == expected || l.TrimEnd() == "# " + expected || l.TrimEnd() == "$ " + expected || l.TrimEnd() == "host$ " + expected))
                {
                    return true;
                }

                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            return false;
        }

        /// <summary>Ends the server: the pane's pseudo-terminal closes, which hangs up whatever runs on it.</summary>
        public Task KillServerAsync() => RunAsync(Tmux, "-S", Socket, "kill-server");

        public async ValueTask DisposeAsync()
        {
            // What the pane started is killed before the server, so no test leaves a command behind.
            if (ShellPid > 0)
            {
                foreach (var pid in Descendants(ShellPid))
                {
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        process.Kill();
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                    {
                        // Gone already.
                    }
                }
            }

            await KillServerAsync();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // tmux runs a session's command with $SHELL -c, falling back to the user's login shell: without SHELL (CI's
        // rootless user has /usr/sbin/nologin) the session's shell exits at once and the server with it.
        start.Environment["SHELL"] = "/bin/sh";
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        // What tmux says when it fails (no server, no session) goes with the screen into a failure's message.
        var message = (await error).Trim();
        return process.ExitCode == 0 ? output : output + $"[{Path.GetFileName(program)} {string.Join(' ', args)} exited {process.ExitCode}: {message}]";
    }
}
