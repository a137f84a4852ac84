using Containers.IntegrationTests.Support;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class IsolationTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_container_process_is_pid_1_and_sees_no_host_process()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '"),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Equal("1", lines[0]);

        // Only the shell (1) and the pipeline's own processes exist: no host process is visible.
        var pids = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Contains(1, pids);
        Assert.All(pids, pid => Assert.True(pid < 10, $"pid {pid} is visible in the container"));
        Assert.DoesNotContain(Environment.ProcessId, pids.Where(p => p > 10));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(NamespaceType.Time, "time")]
    [InlineData(NamespaceType.Cgroup, "cgroup")]
    [InlineData(NamespaceType.Ipc, "ipc")]
    [InlineData(NamespaceType.Uts, "uts")]
    [InlineData(NamespaceType.Mount, "mnt")]
    [InlineData(NamespaceType.Pid, "pid")]
    [InlineData(NamespaceType.Network, "net")]
    public async Task A_namespace_the_spec_lists_is_new_and_one_it_leaves_out_is_the_hosts(NamespaceType type, string name)
    {
        using var fixture = new RuntimeFixture();
        var host = NamespaceId("/proc/self/ns/" + name);
        var ct = TestContext.Current.CancellationToken;

        var isolated = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/readlink", "/proc/self/ns/" + name).WithNamespace(type), ct);
        Assert.Equal(0, isolated.ExitCode);
        Assert.NotEqual(host, isolated.Stdout.Trim());

        // Leaving out the mount or pid namespace is a different container: only check the ones that stay optional.
        if (type is NamespaceType.Time or NamespaceType.Cgroup or NamespaceType.Ipc or NamespaceType.Network)
        {
            var shared = await fixture.Runtime.RunAsync(
                ContainerSpec.For("/bin/readlink", "/proc/self/ns/" + name).WithoutNamespace(type), ct);
            Assert.Equal(0, shared.ExitCode);
            Assert.Equal(host, shared.Stdout.Trim());
        }
    }

    private static string NamespaceId(string path) => new FileInfo(path).LinkTarget!;

    [Fact(Timeout = 60_000)]
    public async Task A_container_has_its_own_hostname()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/hostname").WithHostname("box-under-test"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("box-under-test\n", result.Stdout);
        Assert.NotEqual("box-under-test", Environment.MachineName);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_container_sees_no_host_network_interface_only_loopback()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/cat", "/proc/net/dev"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var interfaces = result.Stdout.Split('\n').Skip(2).Where(l => l.Contains(':', StringComparison.Ordinal))
            .Select(l => l.Split(':')[0].Trim()).ToArray();
        Assert.Equal(["lo"], interfaces);
        var host = File.ReadAllLines("/proc/net/dev").Skip(2).Select(l => l.Split(':')[0].Trim()).ToArray();
        Assert.True(host.Length > 1, "the host has more interfaces than loopback, so the check above means something");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_loopback_interface_of_a_new_network_namespace_is_up()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/cat", "/sys/class/net/lo/flags"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var flags = Convert.ToInt32(result.Stdout.Trim(), 16);
        Assert.Equal(1, flags & 1); // IFF_UP
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mount_made_inside_a_container_does_not_appear_on_the_host()
    {
        using var fixture = new RuntimeFixture();
        var marker = "/tmp/inside-" + Guid.NewGuid().ToString("N");
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "grep -c ' /scratch ' /proc/self/mountinfo").WithTmpfs("/scratch").WithTmpfs(marker),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("1\n", result.Stdout);
        var hostMounts = await File.ReadAllTextAsync("/proc/self/mountinfo", TestContext.Current.CancellationToken);
        Assert.DoesNotContain(marker, hostMounts, StringComparison.Ordinal);
        Assert.DoesNotContain(" /scratch ", hostMounts, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_fds_0_1_and_2_are_open_inside_a_container()
    {
        using var fixture = new RuntimeFixture();

        // ls (pid 2) lists the fds of the shell (pid 1), which runs it and waits: ls's own directory fd is not counted.
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "ls /proc/1/fd; true"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["0", "1", "2"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact(Timeout = 60_000)]
    public async Task As_root_a_user_namespace_maps_container_root_to_the_configured_host_uid()
    {
        Requires.Root();
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "id -u; cat /proc/self/uid_map")
                .WithUidMapping(0, 100000, 65536).WithGidMapping(0, 100000, 65536),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", lines[0]);
        Assert.Equal(["0", "100000", "65536"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact(Timeout = 60_000)]
    public async Task Rootless_the_caller_is_root_inside_and_itself_outside()
    {
        Requires.NotRoot();
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "id -u; head -1 /proc/self/uid_map"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", lines[0]);
        var map = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", map[0]);
        Assert.Equal(CallerUid().ToString(System.Globalization.CultureInfo.InvariantCulture), map[1]);
    }

    private static uint CallerUid() =>
        uint.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[2],
            System.Globalization.CultureInfo.InvariantCulture);
}
