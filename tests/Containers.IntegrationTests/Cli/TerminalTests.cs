using System.Diagnostics;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>run -it</c> and <c>exec -it</c> in a real terminal: tmux types into it and reads its screen.</summary>
public sealed class TerminalTests
{
    [Fact(Timeout = 300_000)]
    public async Task Run_it_and_exec_it_give_a_raw_terminal_that_follows_resizes_and_gets_ctrl_c_then_restore_it()
    {
        var tmux = Requires.Tool("tmux");
        var dir = Directory.CreateTempSubdirectory("containers-tty-").FullName;
        var socket = Path.Combine(dir, "tmux.sock");
        var session = "tty";
        var execTarget = "cli-exec-tty-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await StartShellAsync();

            await TypeAsync(CommandLine("run", "-it", "--host-rootfs", "--", "sh"));
            await TypeAsync("echo in-container-$$");
            await ScreenAsync("in-container-1");

            await TypeAsync("stty size");
            await ScreenAsync("24 80");
            await RunAsync(tmux, "-S", socket, "resize-window", "-t", session, "-x", "100", "-y", "30");
            // The resize reaches the container after the CLI's signal thread has run, which on a busy machine can
            // be after a stty typed at once: stty is asked again (up to 20 times) until the new size shows.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                await TypeAsync("stty size");
                if (await AppearsAsync("30 100", attempts: 30))
                {
                    break;
                }
            }

            await ScreenAsync("30 100");

            // Ctrl-C is a byte for the container's terminal: it interrupts sleep there, and the CLI stays.
            await TypeAsync("sleep 3607");
            await WaitForProcessAsync("sleep", "3607");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-c");
            await TypeAsync("echo interrupted-$?-in-$$");
            await ScreenAsync("interrupted-130-in-1");

            // Typed only once the command has exited: until then every key goes to the container.
            await TypeAsync("exit 5");
            await ScreenAsync("host$");
            await TypeAsync($"echo cli-exited-$?; stty -g > {dir}/after");
            await ScreenAsync("cli-exited-5");
            await WaitForFileAsync(Path.Combine(dir, "after"));

            Assert.Equal(
                await File.ReadAllTextAsync(Path.Combine(dir, "before"), TestContext.Current.CancellationToken),
                await File.ReadAllTextAsync(Path.Combine(dir, "after"), TestContext.Current.CancellationToken));

            // exec -it into a detached container: a terminal of its own, the window's size, Ctrl-C inside, restored after.
            var detached = await CliRunner.RunAsync("run", "-d", "--name", execTarget, "--host-rootfs", "--", "sleep", "300");
            Assert.True(detached.ExitCode == 0, detached.Stderr);
            await TypeAsync(CommandLine("exec", "-it", execTarget, "sh"));
            await TypeAsync("test -t 0 && test -t 1 && echo exec-on-a-terminal");
            await ScreenAsync("exec-on-a-terminal");
            await TypeAsync("stty size");
            await ScreenAsync("30 100");
            await TypeAsync("sleep 3608");
            await WaitForProcessAsync("sleep", "3608");
            await RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "C-c");
            await TypeAsync("echo exec-interrupted-$?");
            await ScreenAsync("exec-interrupted-130");
            await TypeAsync("exit 6");
            await ScreenAsync("host$");
            await TypeAsync($"echo exec-exited-$?; stty -g > {dir}/after-exec");
            await ScreenAsync("exec-exited-6");
            await WaitForFileAsync(Path.Combine(dir, "after-exec"));
            Assert.Equal(
                await File.ReadAllTextAsync(Path.Combine(dir, "before"), TestContext.Current.CancellationToken),
                await File.ReadAllTextAsync(Path.Combine(dir, "after-exec"), TestContext.Current.CancellationToken));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", execTarget);
            // A CLI still attached when the test failed gets a hangup from kill-server, which it forwards to the
            // container's pid 1, and an interactive shell there ignores it: what the pane started is killed first.
            if (int.TryParse((await RunAsync(tmux, "-S", socket, "list-panes", "-t", session, "-F", "#{pane_pid}")).Trim(), out var pane))
            {
                foreach (var pid in Descendants(pane))
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

            await RunAsync(tmux, "-S", socket, "kill-server");
            Directory.Delete(dir, recursive: true);
        }

        Task TypeAsync(string line) => RunAsync(tmux, "-S", socket, "send-keys", "-t", session, "-l", line + "\r");

        // The host shell in a new tmux server (no configuration file). A server that did not come up is started again
        // once, with what tmux said in the test's output.
        async Task StartShellAsync()
        {
            for (var start = 1; ; start++)
            {
                await RunAsync(tmux, "-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", "sh");
                await TypeAsync($"PS1='host$ '; stty -g > {dir}/before; echo host-ready");
                if (start == 2 || await AppearsAsync("host-ready", attempts: 200))
                {
                    break;
                }

                TestContext.Current.TestOutputHelper?.WriteLine($"tmux shell not ready: {await RunAsync(tmux, "-S", socket, "list-sessions")}");
                await RunAsync(tmux, "-S", socket, "kill-server");
            }

            await ScreenAsync("host-ready");
        }

        async Task ScreenAsync(string expected)
        {
            if (!await AppearsAsync(expected, attempts: 600))
            {
                Assert.Fail($"'{expected}' did not appear on the screen:\n{await RunAsync(tmux, "-S", socket, "capture-pane", "-p", "-t", session)}");
            }
        }

        async Task<bool> AppearsAsync(string expected, int attempts)
        {
            for (var attempt = 0; attempt < attempts; attempt++)
            {
                var screen = await RunAsync(tmux, "-S", socket, "capture-pane", "-p", "-t", session);
                // Output lines, alone or after a prompt the shell printed first (never the typed command's echo).
                if (screen.Split('\n').Any(l => l.TrimEnd() == expected || l.TrimEnd() == "# " + expected || l.TrimEnd() == "host$ " + expected))
                {
                    return true;
                }

                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            return false;
        }
    }

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
