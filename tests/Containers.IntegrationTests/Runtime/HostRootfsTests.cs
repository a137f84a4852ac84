using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class HostRootfsTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_host_rootfs_has_a_tmpfs_tmp_and_empty_run_var_tmp_and_home()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c",
                "stat -f -c %T /tmp; stat -c %a /tmp /var/tmp /run /home; find /run /var/tmp /home -mindepth 1 | wc -l; echo x > /tmp/f && cat /tmp/f; grep ' /tmp ' /proc/mounts"),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Equal("tmpfs", lines[0]);
        Assert.Equal(["1777", "1777", "755", "755"], lines[1..5]);
        Assert.Equal("0", lines[5].Trim());
        Assert.Equal("x", lines[6]);
        Assert.Contains("size=65536k", lines[7], StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_size_of_tmp_is_set_by_mounting_a_tmpfs_there()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "grep ' /tmp ' /proc/mounts").WithTmpfs("/tmp", 1 << 20),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("size=1024k", Assert.Single(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_only_host_rootfs_refuses_writes_but_tmp_stays_writable()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "touch /file 2>/dev/null && echo root-rw || echo root-ro; mkdir /run/x 2>/dev/null && echo run-rw || echo run-ro; touch /tmp/file && echo tmp-rw")
                .WithHostRootfs(readOnly: true),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("root-ro\nrun-ro\ntmp-rw\n", result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_working_directory_is_created()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "pwd; touch here").WithWorkingDirectory("/work/a/b"),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("/work/a/b\n", result.Stdout);
    }
}
