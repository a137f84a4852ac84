using Containers.IntegrationTests.Support;
using Containers.Linux;

namespace Containers.IntegrationTests.Linux;

public sealed class MountOpTests : IDisposable
{
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private readonly string _dir = PlanFixtures.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task A_symlink_in_the_root_cannot_redirect_a_mount_to_the_host()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
            .Symlink("/tmp", "/escape") // absolute: would name the host's /tmp if followed outside the root
            .Mount("tmpfs", "/escape", "tmpfs", stage: "mount /escape")
            .PivotRoot()
            .Exec("/bin/sh", ["sh", "-c", "grep ' / /tmp ' /proc/self/mountinfo | grep -c tmpfs"],
                PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("1\n", output); // /escape -> /tmp resolved to the root's own /tmp, which got the tmpfs
    }

    [Fact(Timeout = 60_000)]
    public async Task Device_nodes_limits_umask_and_read_only_binds_apply_inside()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
            .MakeNode("/dev/null", 0x2000 | 0x1b6, 1, 3) // S_IFCHR | 0666, 1:3
            .MakeDirectory("/data")
            .Bind("/bin", "/data", readOnly: true)
            .PivotRoot()
            .SetRlimit(7, 64, 64) // RLIMIT_NOFILE
            .Umask(0x3f) // 077
            .Exec("/bin/sh", ["sh", "-c",
                "echo x > /dev/null && echo null-ok; ulimit -n; umask; touch /data/f 2>/dev/null || echo data-read-only"],
                PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("null-ok\n64\n0077\ndata-read-only\n", output);
    }
}
