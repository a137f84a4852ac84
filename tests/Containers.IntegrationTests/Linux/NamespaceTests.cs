using System.Text;
using Containers.IntegrationTests.Support;
using Containers.Linux;

namespace Containers.IntegrationTests.Linux;

public sealed class NamespaceTests : IDisposable
{
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private readonly string _dir = PlanFixtures.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task A_process_joins_a_running_container_through_its_pidfd()
    {
        Requires.Root();
        var ct = TestContext.Current.CancellationToken;
        var target = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(target, _dir).SetHostname("joined").Exec("/bin/sh", ["sleep", "100"], PlanFixtures.Env);
        await using var container = CapturedChild.Launch(target.Build());
        await container.Child.WaitForExecAsync(ct);

        var exec = PlanFixtures.Output(new PlanBuilder());
        var pidfd = exec.ImportFd();
        exec.SetNs(pidfd, Isolated)
            .Fork()
            .ChangeDirectory("/")
            .CloseOtherFds([])
            .Exec("sh", ["sh", "-c", "echo pid=$$; hostname; cat /proc/1/cmdline; echo; ls /proc/self/fd"], PlanFixtures.Env);
        await using var joined = CapturedChild.Launch(exec.Build(), container.Child.PidFd);
        await joined.Child.WaitForExecAsync(ct);
        var (status, output) = await joined.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("pid=2", lines[0]); // a new process inside the container's pid namespace
        Assert.Equal("joined", lines[1]);
        Assert.Equal("sleep\0100\0", lines[2]);
        Assert.NotEqual(container.Child.Pid, joined.Child.Pid);
        Assert.True(container.Child.Signal(9));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_childs_new_mount_namespace_is_held_by_the_launcher_until_its_exit_is_known_and_then_released()
    {
        Requires.Root();
        var ct = TestContext.Current.CancellationToken;
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir).Exec("/bin/sh", ["sleep", "100"], PlanFixtures.Env);
        await using var container = CapturedChild.Launch(plan.Build());
        await container.Child.WaitForExecAsync(ct);
        var mountNamespace = new FileInfo($"/proc/{container.Child.Pid}/ns/mnt").LinkTarget!;
        Assert.NotEqual(new FileInfo("/proc/self/ns/mnt").LinkTarget, mountNamespace);

        // Held here while it runs, so that its teardown is not part of the child's exit.
        Assert.Contains(mountNamespace, MountNamespaceFds());

        Assert.True(container.Child.Signal(9));
        Assert.Equal(9, (await container.Child.WaitAsync(ct)).Signal);
        await MountNamespaceHold.WhenReleasedAsync().WaitAsync(ct);
        Assert.DoesNotContain(mountNamespace, MountNamespaceFds());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pty_from_the_containers_own_devpts_becomes_the_controlling_terminal()
    {
        Requires.Root();
        var ct = TestContext.Current.CancellationToken;
        var (parentSocket, childSocket) = LibC.SocketPair();
        using var _ = parentSocket;
        var plan = new PlanBuilder(Isolated);
        var socket = plan.ImportFd();
        PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
            .MakeDirectory("/dev/pts")
            .Mount("devpts", "/dev/pts", "devpts", MountFlags.NoSuid | MountFlags.NoExec, "newinstance,ptmxmode=0666,mode=0620")
            .Symlink("pts/ptmx", "/dev/ptmx")
            .PivotRoot()
            .OpenPty("/dev/ptmx", socket)
            .SetSid()
            .SetControllingTerminal(0)
            .CloseOtherFds([])
            .Exec("/bin/sh", ["sh", "-c", "tty; echo sid=$(cut -d' ' -f6 /proc/self/stat)"], PlanFixtures.Env);

        await using var child = ChildProcess.Launch(plan.Build(), [childSocket]);
        childSocket.Dispose();
        using var master = await ChildProcess.ReceiveFdAsync(parentSocket, ct);
        await child.WaitForExecAsync(ct);
        var output = await Task.Run(() => ReadUntilHangup(master), ct);
        var status = await child.WaitAsync(ct);

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("/dev/pts/0\r\nsid=1\r\n", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Root_maps_a_range_of_ids_into_a_new_user_namespace()
    {
        Requires.Root();
        var ct = TestContext.Current.CancellationToken;
        // The child keeps the host's root credentials, which the new map does not cover: it switches to the ns's 0.
        var plan = PlanFixtures.Output(new PlanBuilder(CloneFlags.NewUser | Isolated)).WaitForParent("wait for uid_map")
            .SetGroups([]).SetResGid(0).SetResUid(0);
        PlanFixtures.BusyboxRoot(plan, _dir)
            .Exec("/bin/sh", ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map"], PlanFixtures.Env);
        await using var child = CapturedChild.Launch(plan.Build());

        IdMapRange[] map = [new(0, 100000, 65536)];
        await UserNamespaceMaps.WriteAsync(child.Child.Pid, map, map, ct);
        child.Child.Continue();
        await child.Child.WaitForExecAsync(ct);
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Squeeze).ToArray();
        Assert.Equal(["0", "0", "0 100000 65536", "0 100000 65536"], lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unprivileged_caller_becomes_root_of_its_own_container()
    {
        Requires.NotRoot();
        var ct = TestContext.Current.CancellationToken;
        var plan = PlanFixtures.Output(new PlanBuilder(CloneFlags.NewUser | Isolated)).WaitForParent("wait for uid_map");
        PlanFixtures.BusyboxRoot(plan, _dir)
            .SetHostname("rootless")
            .Exec("/bin/sh", ["sh", "-c", "echo pid=$$; id -u; hostname; cat /proc/self/uid_map"], PlanFixtures.Env);
        await using var child = CapturedChild.Launch(plan.Build());

        await UserNamespaceMaps.WriteAsync(child.Child.Pid, [new(0, LibC.geteuid(), 1)], [new(0, LibC.getegid(), 1)], ct);
        child.Child.Continue();
        await child.Child.WaitForExecAsync(ct);
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Squeeze).ToArray();
        Assert.Equal(["pid=1", "0", "rootless", $"0 {LibC.geteuid()} 1"], lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unprivileged_caller_maps_its_subordinate_range_with_newuidmap()
    {
        Requires.NotRoot();
        Requires.Tool("newuidmap");
        var user = Environment.UserName;
        var subuid = UserNamespaceMaps.FindSubordinateRange("/etc/subuid", user, LibC.geteuid());
        var subgid = UserNamespaceMaps.FindSubordinateRange("/etc/subgid", user, LibC.getegid());
        Assert.SkipWhen(subuid is null || subgid is null, $"no /etc/subuid and /etc/subgid entry for {user}");
        var ct = TestContext.Current.CancellationToken;
        var plan = PlanFixtures.Output(new PlanBuilder(CloneFlags.NewUser)).WaitForParent("wait for uid_map")
            .Exec("/bin/sh", ["sh", "-c", "cat /proc/self/uid_map"], PlanFixtures.Env);
        await using var child = CapturedChild.Launch(plan.Build());

        await UserNamespaceMaps.WriteAsync(child.Child.Pid,
            [new(0, LibC.geteuid(), 1), new(1, subuid!.Value.Start, subuid.Value.Count)],
            [new(0, LibC.getegid(), 1), new(1, subgid!.Value.Start, subgid.Value.Count)], ct);
        child.Child.Continue();
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Squeeze).ToArray();
        Assert.Equal([$"0 {LibC.geteuid()} 1", $"1 {subuid.Value.Start} {subuid.Value.Count}"], lines);
    }

    private static string Squeeze(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static string ReadUntilHangup(Microsoft.Win32.SafeHandles.SafeFileHandle master)
    {
        var text = new StringBuilder();
        using var stream = new FileStream(master, FileAccess.Read, 1);
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (IOException)
        {
            // EIO: the last slave fd closed.
        }

        return text.ToString();
    }

    private static List<string> MountNamespaceFds() =>
        [.. Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).OfType<string>().Where(t => t.StartsWith("mnt:[", StringComparison.Ordinal))];
}
