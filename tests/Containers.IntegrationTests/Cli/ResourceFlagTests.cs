using System.Globalization;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>--ulimit</c>, <c>--device</c> and <c>--blkio-weight</c> of <c>run</c>, proven inside the container.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ResourceFlagTests
{
    [ScaledFact(60_000)]
    public async Task Ulimit_sets_the_soft_and_hard_limit_the_program_sees()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--ulimit", "nofile=512:1024", "--ulimit", "core=0", "--",
            "/bin/sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("512\n1024\n0\n0\n", stdout);
    }

    [ScaledFact(60_000)]
    public async Task Ulimit_above_the_hosts_hard_limit_needs_CAP_SYS_RESOURCE_and_says_so_without_it()
    {
        var hostHard = HardOpenFiles();
        Assert.SkipWhen(hostHard == ulong.MaxValue, "this process has no hard limit on open files to exceed");
        var above = (hostHard + 1).ToString(CultureInfo.InvariantCulture);

        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--ulimit", $"nofile=1024:{above}", "--", "/bin/sh", "-c", "ulimit -Hn");

        if (HasCapability(24))
        {
            // CAP_SYS_RESOURCE lets a process raise its hard limits: the container gets what it asked for.
            Assert.True(exitCode == 0, stderr);
            Assert.Equal(above + "\n", stdout);
        }
        else
        {
            Assert.Equal(125, exitCode);
            Assert.Equal("", stdout);
            Assert.Contains("setrlimit RLIMIT_NOFILE", stderr, StringComparison.Ordinal);
            Assert.Contains("CAP_SYS_RESOURCE", stderr, StringComparison.Ordinal);
        }
    }

    [ScaledFact(60_000)]
    public async Task A_device_given_with_r_is_made_in_the_container_and_opens_for_reading_only()
    {
        Requires.Root();
        // /dev/loop-control (c 10:237) is on no default allow list: only --device lets the container open it.
        var script = "stat -c '%F %t:%T %a' /dev/lc || exit 3; (: < /dev/lc) && echo read; (: > /dev/lc) && echo wrote";
        var hostMode = Convert.ToString((int)File.GetUnixFileMode("/dev/loop-control") & 0x1ff, 8);

        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--device", "/dev/loop-control:/dev/lc:r", "--", "/bin/sh", "-c", script);
        var (withoutExitCode, withoutStdout, withoutStderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--", "/bin/sh", "-c", script);

        Assert.True(exitCode != 125, stderr);
        Assert.Equal($"character special file a:ed {hostMode}\nread\n", stdout);
        Assert.Contains("Operation not permitted", stderr, StringComparison.Ordinal);
        Assert.Equal((3, ""), (withoutExitCode, withoutStdout)); // the control: without --device there is no node
        Assert.Contains("No such file", withoutStderr, StringComparison.Ordinal);
    }

    [ScaledFact(30_000)]
    public async Task A_device_that_is_no_device_is_refused_before_anything_runs()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--device", "/etc/hostname", "--", "/bin/echo", "ran");

        Assert.Equal(125, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("'/etc/hostname' cannot be given to a container as a device: it is not a character or block device", stderr, StringComparison.Ordinal);
    }

    private static ulong HardOpenFiles()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var hard = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return hard == "unlimited" ? ulong.MaxValue : ulong.Parse(hard, CultureInfo.InvariantCulture);
    }

    private static bool HasCapability(int capability)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return ((ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) >> capability) & 1) != 0;
    }
}

/// <summary>
/// The cgroup flags and <c>stats</c> on this host's cgroup version (each CLI call is a .NET start, too slow for the
/// TCG guest; the library tests cover v2 there).
/// </summary>
public sealed class CgroupCliTests
{
    /// <summary>
    /// The weight of the cgroup the container's process is in, as the kernel reports it to the process itself, or a
    /// clear error where the host's I/O scheduler offers no weight.
    /// </summary>
    [ScaledFact(60_000)]
    public async Task Blkio_weight_is_the_weight_of_the_containers_cgroup_or_a_clear_error_where_the_host_has_none()
    {
        Requires.Root();
        // The container sees the host's cgroup tree at /cg and finds its own cgroup in /proc/self/cgroup.
        var script = Requires.IsCgroupV2
            ? "p=$(sed -n 's/^0:://p' /proc/self/cgroup); cat /cg$p/io.weight 2>/dev/null || cat /cg$p/io.bfq.weight"
            : "p=$(sed -n 's/^[0-9]*:blkio://p' /proc/self/cgroup); cat /cg/blkio$p/blkio.weight 2>/dev/null || cat /cg/blkio$p/blkio.bfq.weight";

        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--blkio-weight", "300", "-v", "/sys/fs/cgroup:/cg:ro", "--", "/bin/sh", "-c", script);

        if (exitCode == 125)
        {
            Assert.Contains("linux.resources.blockIO.weight", stderr, StringComparison.Ordinal);
            Assert.Contains("has no weight", stderr, StringComparison.Ordinal);
            Assert.Equal("", stdout);
        }
        else
        {
            Assert.True(exitCode == 0, stderr);
            Assert.Contains(stdout.Trim(), (string[])["300", "default 300"]);
        }
    }

    /// <summary>
    /// <c>--memory-high</c> reaches the container's cgroup as bytes on v2 (its effect, the kernel's throttle, is proven
    /// by the library's tests in the v2 guest), and a v1 host refuses it before anything runs, naming the field.
    /// </summary>
    [ScaledFact(60_000)]
    public async Task Memory_high_becomes_the_containers_memory_high_on_cgroup_v2_and_a_clear_error_on_v1()
    {
        Requires.Root();
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--memory-high", "16m", "-v", "/sys/fs/cgroup:/cg:ro", "--",
            "/bin/sh", "-c", "p=$(sed -n 's/^0:://p' /proc/self/cgroup); cat /cg$p/memory.high");

        if (Requires.IsCgroupV2)
        {
            Assert.True(exitCode == 0, stderr);
            Assert.Equal("16777216\n", stdout);
        }
        else
        {
            Assert.Equal(125, exitCode);
            Assert.Contains("linux.resources.unified[\"memory.high\"]", stderr, StringComparison.Ordinal);
            Assert.Contains("cgroup v1 has no memory.high", stderr, StringComparison.Ordinal);
            Assert.Equal("", stdout);
        }
    }

    [ScaledFact(60_000)]
    public async Task Memory_high_that_is_no_size_is_a_usage_error()
    {
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--memory-high", "lots", "--", "/bin/true");

        Assert.Equal(125, exitCode);
        Assert.Contains("--memory-high 'lots'", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [ScaledFact(90_000)]
    public async Task Stats_shows_a_running_containers_usage_and_its_pressure_where_the_kernel_keeps_it()
    {
        Requires.Root();
        var name = "cli-stats-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "-d", "--name", name, "-m", "64m", "--pids-limit", "32", "--", "/bin/sleep", "600");
        try
        {
            Assert.True(run.ExitCode == 0, run.Stderr);

            var (exitCode, stdout, stderr) = await CliRunner.RunAsync("stats", "--no-stream", name);

            Assert.True(exitCode == 0, stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.EndsWith("PIDS   PRESSURE CPU/MEM/IO", lines[0], StringComparison.Ordinal);
            var row = Assert.Single(lines, l => l.StartsWith(name, StringComparison.Ordinal));
            Assert.Contains(" / 64.00MiB ", row, StringComparison.Ordinal);
            var pressure = row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
            if (Requires.IsCgroupV2)
            {
                Assert.Matches(@"^\d+\.\d\d%/\d+\.\d\d%/\d+\.\d\d%$", pressure);
            }
            else
            {
                Assert.Equal("-", pressure); // cgroup v1 keeps no pressure per cgroup
            }
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [ScaledFact(90_000)]
    public async Task A_container_paused_by_one_command_shows_paused_and_is_unpaused_by_another()
    {
        Requires.Root();
        var name = "cli-pause-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "--host-rootfs", "-d", "--name", name, "-m", "64m", "--", "/bin/sleep", "600");
        try
        {
            Assert.True(run.ExitCode == 0, run.Stderr);

            var pause = await CliRunner.RunAsync("pause", name);
            var paused = await CliRunner.RunAsync("ps");
            var again = await CliRunner.RunAsync("pause", name);
            var unpause = await CliRunner.RunAsync("unpause", name);
            var running = await CliRunner.RunAsync("ps");
            var exec = await CliRunner.RunAsync("exec", name, "echo", "thawed");

            Assert.True(pause.ExitCode == 0, pause.Stderr);
            Assert.Matches(@"Up .* \(Paused\)", Assert.Single(paused.Stdout.Split('\n'), l => l.EndsWith(name, StringComparison.Ordinal)));
            Assert.Equal(125, again.ExitCode); // already paused: the freezer, not a state file, says so
            Assert.Contains("paused", again.Stderr, StringComparison.Ordinal);
            Assert.True(unpause.ExitCode == 0, unpause.Stderr);
            Assert.DoesNotContain("Paused", Assert.Single(running.Stdout.Split('\n'), l => l.EndsWith(name, StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.Equal((0, "thawed\n"), (exec.ExitCode, exec.Stdout));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }
}
