using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

public sealed class RunCommandTests
{
    [Fact(Timeout = 60_000)]
    public async Task Run_streams_output_and_exits_with_the_containers_exit_code()
    {
        var (exitCode, stdout, _) = await CliRunner.RunAsync("run", "--host-rootfs", "--hostname", "cli-box", "-e", "GREETING=hello", "--", "/bin/sh", "-c", "echo $GREETING $(hostname) $$; exit 7");

        Assert.Equal(7, exitCode);
        Assert.Equal("hello cli-box 1\n", stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_with_init_makes_the_program_a_child_of_pid_1()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--init", "--host-rootfs", "--", "sh", "-c", "echo $$ $PPID; exit 5");

        Assert.True(exitCode == 5, stderr);
        var pids = stdout.Trim().Split(' ');
        Assert.NotEqual("1", pids[0]);
        Assert.Equal("1", pids[1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_exits_with_128_plus_the_signal_when_the_container_is_killed()
    {
        var name = "cli-killed-" + Guid.NewGuid().ToString("N")[..8];
        using var run = Process.Start(CliRunner.StartInfo("run", "--host-rootfs", "--name", name, "--", "/bin/sleep", "60"))!;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if ((await CliRunner.RunAsync("ps")).Stdout.Split('\n').Any(l => l.EndsWith(" " + name, StringComparison.Ordinal) && l.Contains("Up ", StringComparison.Ordinal)))
            {
                break;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, (await CliRunner.RunAsync("kill", "-s", "SIGKILL", name)).ExitCode);
        await run.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(128 + 9, run.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_mounts_volumes_and_tmpfs_and_honours_read_only()
    {
        var dir = Directory.CreateTempSubdirectory("containers-cli-volume-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "file"), "from-host", TestContext.Current.CancellationToken);
            var (exitCode, stdout, stderr) = await CliRunner.RunAsync(
                "run", "--host-rootfs", "--read-only", "-v", dir + ":/data:ro", "--tmpfs", "/scratch:size=1m", "-w", "/data", "--",
                "/bin/sh", "-c", "cat file; echo; touch /scratch/ok && echo tmpfs-ok; touch /data/no 2>/dev/null || echo data-ro; touch /no 2>/dev/null || echo root-ro");

            Assert.True(exitCode == 0, stderr);
            Assert.Equal("from-host\ntmpfs-ok\ndata-ro\nroot-ro\n", stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_mount_gives_the_binds_and_tmpfs_of_v_and_tmpfs_and_refuses_what_it_does_not_support()
    {
        var dir = Directory.CreateTempSubdirectory("containers-cli-mount-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "file"), "from-host", TestContext.Current.CancellationToken);
            var (exitCode, stdout, stderr) = await CliRunner.RunAsync(
                "run", "--host-rootfs", "--mount", $"type=bind,source={dir},target=/data,readonly", "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m",
                "--mount", $"type=bind,src={dir},dst=/rw", "--", "/bin/sh", "-c",
                "cat /data/file; echo; touch /data/no 2>/dev/null || echo data-ro; touch /rw/yes && echo rw-ok; df -k /scratch | tail -1 | awk '{print $2}'");
            var unknown = await CliRunner.RunAsync("run", "--host-rootfs", "--mount", $"type=bind,source={dir},target=/d,bind-propagation=shared", "true");
            var missing = await CliRunner.RunAsync("run", "--host-rootfs", "--mount", $"type=bind,source={dir}/nope,target=/d", "true");
            var noTarget = await CliRunner.RunAsync("run", "--host-rootfs", "--mount", "type=tmpfs", "true");

            Assert.True(exitCode == 0, stderr);
            Assert.Equal("from-host\ndata-ro\nrw-ok\n1024\n", stdout);
            Assert.True(File.Exists(Path.Combine(dir, "yes")));
            Assert.Equal(125, unknown.ExitCode);
            Assert.Contains("'bind-propagation' is not supported", unknown.Stderr, StringComparison.Ordinal);
            Assert.Equal(125, missing.ExitCode);
            Assert.Contains("does not exist", missing.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(dir, "nope")));
            Assert.Equal(125, noTarget.ExitCode);
            Assert.Contains("target=DST", noTarget.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Shm_size_sizes_dev_shm_and_a_size_that_is_not_one_is_refused()
    {
        var sized = await CliRunner.RunAsync("run", "--host-rootfs", "--shm-size", "2m", "--", "/bin/sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'");
        var standard = await CliRunner.RunAsync("run", "--host-rootfs", "--", "/bin/sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'");
        var refused = await CliRunner.RunAsync("run", "--host-rootfs", "--shm-size", "0", "true");

        Assert.Equal((0, "2048\n"), (sized.ExitCode, sized.Stdout));
        Assert.Equal((0, "65536\n"), (standard.ExitCode, standard.Stdout));
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("--shm-size '0'", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_program_prints_one_error_line_and_exits_127()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--", "/no/such/program");

        Assert.Equal(127, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("containers: ", line, StringComparison.Ordinal);
        Assert.Contains("/no/such/program", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_memory_limit_flag_is_applied_and_an_OOM_kill_exits_137_saying_so()
    {
        Requires.Root();
        Assert.SkipWhen(Containers.Cgroups.CgroupDriver.DetectLayout() is null, "needs cgroups (this host mounts none)");

        // tail keeps the current line, and /dev/zero has no line end: it grows until the limit stops it.
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync(
            "run", "--host-rootfs", "-m", "16m", "--memory-swap", "16m", "--", "/usr/bin/tail", "/dev/zero");

        Assert.True(exitCode == 137, $"exit {exitCode}, stderr: {stderr}");
        Assert.Equal("", stdout);
        Assert.Contains("ran out of memory (its limit is 16m)", stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_says_when_a_process_is_OOM_killed_while_the_container_lives_on()
    {
        Requires.Root();
        Assert.SkipWhen(Containers.Cgroups.CgroupDriver.DetectLayout() is null, "needs cgroups (this host mounts none)");

        // The subshell fills 64 MiB under a 16 MiB limit and is killed; the shell around it goes on. The subshell makes
        // itself the OOM killer's first choice, so the outer shell is never the one taken (under load it was).
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync(
            "run", "--host-rootfs", "-m", "16m", "--memory-swap", "16m", "--", "/bin/sh", "-c",
            "(echo 1000 > /proc/self/oom_score_adj; x=$(head -c 67108864 /dev/zero | tr '\\0' a)); echo survived");

        Assert.True((exitCode, stdout) == (0, "survived\n"), $"{exitCode}: {stdout} {stderr}");
        Assert.DoesNotContain("the container was killed because it ran out of memory", stderr, StringComparison.Ordinal);
        // One kill or more: the killer may take the command substitution's shell before the one holding the memory.
        Assert.Matches(@"containers: a process of the container was killed because the container ran out of memory \([1-9][0-9]* so far\)", stderr);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--memory", "lots")]
    [InlineData("--cpus", "-1")]
    [InlineData("--pids-limit", "many")]
    [InlineData("--oom-score-adj", "high")]
    [InlineData("--blkio-weight", "5")]
    [InlineData("--ulimit", "nofiles=10")]
    [InlineData("--ulimit", "nofile=20:10")]
    [InlineData("--device", "/dev/null:/dev/x:rwx")]
    [InlineData("--device", "dev/null")]
    public async Task A_malformed_limit_is_a_usage_error_naming_the_flag(string flag, string value)
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", flag, value, "--", "/bin/echo", "ran");

        Assert.Equal(125, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains(flag, stderr, StringComparison.Ordinal);
    }

    /// <summary>Docker's sig-proxy: SIGINT and SIGTERM sent to a foreground <c>run</c> reach the container's program.</summary>
    [Theory(Timeout = 60_000)]
    [InlineData("INT", 2, 11)]
    [InlineData("TERM", 15, 12)]
    public async Task A_signal_sent_to_a_foreground_run_reaches_the_program(string name, int number, int code)
    {
        using var cli = Process.Start(CliRunner.StartInfo(
            "run", "--host-rootfs", "--", "/bin/sh", "-c", $"trap 'echo got {name}; exit {code}' {name}; echo ready; while :; do sleep 0.05; done"))!;
        var stderr = cli.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.Equal("ready", await cli.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken));

        // The shell's trap is set before it says ready: the signal cannot end it by its default action.
        Assert.Equal(0, Kill(cli.Id, number));
        var rest = await cli.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await cli.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(cli.ExitCode == code, await stderr);
        Assert.Equal($"got {name}\n", rest);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Fact(Timeout = 60_000)]
    public async Task The_container_dies_when_the_process_running_it_is_killed_with_SIGKILL()
    {
        var marker = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        using var cli = Process.Start(CliRunner.StartInfo("run", "--host-rootfs", "--", "/bin/sleep", marker))!;
        var sleeper = await FindProcessAsync("/bin/sleep\0" + marker);
        Assert.True(sleeper > 0, "the container's process was found");

        cli.Kill();
        await cli.WaitForExitAsync(TestContext.Current.CancellationToken);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Directory.Exists("/proc/" + sleeper) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.False(Directory.Exists("/proc/" + sleeper), $"container process {sleeper} outlived the killed host process");
    }

    private static async Task<int> FindProcessAsync(string cmdline)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid))
                {
                    try
                    {
                        if (File.ReadAllText(Path.Combine(dir, "cmdline")).TrimEnd('\0') == cmdline)
                        {
                            return pid;
                        }
                    }
                    catch (IOException)
                    {
                    }
                    catch (UnauthorizedAccessException)
                    {
                    }
                }
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return 0;
    }
}
