using System.Text;
using Containers.IntegrationTests.Support;
using Containers.Linux;

namespace Containers.IntegrationTests.Linux;

public sealed class ChildProcessTests : IDisposable
{
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private readonly string _dir = PlanFixtures.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task A_child_in_new_namespaces_is_pid_1_with_its_own_hostname_and_process_table()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir)
            .SetHostname("box")
            .Exec("/bin/sh", ["sh", "-c", "echo pid=$$; hostname; echo /proc/[0-9]*"],
                PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        await child.Child.WaitForExecAsync(TestContext.Current.CancellationToken);
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["pid=1", "box", "/proc/1"], lines); // no host process is visible
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_fds_0_to_2_and_the_requested_ones_survive_exec()
    {
        var (extraRead, extraWrite) = LibC.Pipe();
        using var _ = extraRead;
        using var __ = extraWrite;
        var plan = PlanFixtures.Output(new PlanBuilder());
        var extra = plan.ImportFd();
        plan.Dup2(extra, 5)
            .CloseOtherFds([5])
            .Exec("/bin/sleep", ["sleep", "100"], PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build(), extraWrite);
        await child.Child.WaitForExecAsync(TestContext.Current.CancellationToken);

        // Right after exec the dynamic loader briefly holds fd 3 (ld.so.cache, libc): look until sleep has started.
        string[] fds = [];
        for (var attempt = 0; attempt < 100; attempt++)
        {
            fds = [.. Directory.GetFileSystemEntries($"/proc/{child.Child.Pid}/fd").Select(f => Path.GetFileName(f)!).Order()];
            if (fds.SequenceEqual(["0", "1", "2", "5"]))
            {
                break;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(["0", "1", "2", "5"], fds);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_op_reports_its_stage_and_errno()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
            .MakeDirectory("/mnt")
            .Bind("/nonexistent-source", "/mnt")
            .Exec("/bin/sh", ["sh", "-c", "exit 0"], PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.Child.WaitForExecAsync(TestContext.Current.CancellationToken));

        Assert.Equal("bind /nonexistent-source on /mnt", error.Stage);
        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Equal(2, error.Errno);
        Assert.Contains("'bind /nonexistent-source on /mnt': ENOENT", error.Message, StringComparison.Ordinal);
        Assert.Equal(127, (await child.RunAsync()).Status.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_program_is_searched_in_the_containers_root_and_reported()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir)
            .Exec("dotnet", ["dotnet"], PlanFixtures.Env, searchPath: "/bin:/usr/bin");

        await using var child = CapturedChild.Launch(plan.Build());
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.Child.WaitForExecAsync(TestContext.Current.CancellationToken));

        Assert.Equal("exec dotnet", error.Stage);
        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("not found in the container's root filesystem", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_is_found_through_PATH_inside_the_root()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir)
            .Exec("sh", ["sh", "-c", "echo found"], PlanFixtures.Env, searchPath: "/nowhere:/bin");

        await using var child = CapturedChild.Launch(plan.Build());
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("found\n", output);
    }

    [Fact(Timeout = 180_000)]
    public async Task Launch_memory_kept_for_later_launches_never_gives_a_child_another_childs_plan()
    {
        // The shim keeps up to 64 launch maps (stack and plan copy) for later launches: 80 children at once take more
        // than it keeps, every fifth plan (a 96 KB argument) is too big for a kept map, and three rounds reuse the
        // maps the earlier ones handed back. Each child must print its own tag and argument length.
        const int Children = 80;
        var big = new string('x', 96 * 1024);
        for (var round = 0; round < 3; round++)
        {
            var outputs = await Task.WhenAll(Enumerable.Range(0, Children).Select(i =>
                RunToEndAsync($"{round}-{i}", i % 5 == 0 ? big : "small")));
            for (var i = 0; i < Children; i++)
            {
                Assert.Equal($"{round}-{i} {(i % 5 == 0 ? big.Length : 5)}\n", outputs[i]);
            }
        }
    }

    /// <summary>Runs <c>echo TAG ${#ARGUMENT}</c> in a child and returns its output once it has exited.</summary>
    private static async Task<string> RunToEndAsync(string tag, string argument)
    {
        var plan = PlanFixtures.Output(new PlanBuilder())
            .Exec("/bin/sh", ["sh", "-c", "echo $0 ${#1}", tag, argument], PlanFixtures.Env).Build();
        var (read, write) = LibC.Pipe();
        using (read)
        {
            ChildProcess child;
            using (write)
            {
                child = ChildProcess.Launch(plan, [write]);
            }

            await using (child)
            {
                await child.WaitForExecAsync(TestContext.Current.CancellationToken);
                var status = await child.WaitAsync(TestContext.Current.CancellationToken);
                Assert.Equal(0, status.ExitCode);
            }

            // The output is a line, far below the pipe's capacity, and the writer is gone: read to end of file.
            using var stream = new FileStream(read, FileAccess.Read, 1);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Exit_codes_and_terminating_signals_are_reported()
    {
        var exits = PlanFixtures.Output(new PlanBuilder()).Exec("/bin/sh", ["sh", "-c", "exit 42"], PlanFixtures.Env).Build();
        await using (var child = CapturedChild.Launch(exits))
        {
            Assert.Equal(new ChildExitStatus(42, null, false), (await child.RunAsync()).Status);
        }

        var killsItself = PlanFixtures.Output(new PlanBuilder()).Exec("/bin/sh", ["sh", "-c", "kill -9 $$"], PlanFixtures.Env).Build();
        await using (var child = CapturedChild.Launch(killsItself))
        {
            var status = (await child.RunAsync()).Status;
            Assert.Equal(9, status.Signal);
            Assert.Equal(137, status.ShellExitCode);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Signal_goes_through_the_pidfd_and_dispose_kills()
    {
        var plan = PlanFixtures.Output(new PlanBuilder()).Exec("/bin/sleep", ["sleep", "100"], PlanFixtures.Env).Build();
        await using var child = CapturedChild.Launch(plan);
        await child.Child.WaitForExecAsync(TestContext.Current.CancellationToken);

        Assert.True(child.Child.Signal(15));
        var status = (await child.RunAsync()).Status;

        Assert.Equal(15, status.Signal);
        Assert.False(child.Child.Signal(15));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_child_waits_for_the_parent_before_running_later_ops()
    {
        var marker = Path.Combine(_dir, "marker");
        var plan = PlanFixtures.Output(new PlanBuilder())
            .WaitForParent()
            .Exec("/bin/sh", ["sh", "-c", $"cat {marker}"], PlanFixtures.Env)
            .Build();
        await using var child = CapturedChild.Launch(plan);

        await File.WriteAllTextAsync(marker, "written before continue", TestContext.Current.CancellationToken);
        child.Child.Continue();
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("written before continue", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Releasing_the_sync_pipe_without_continuing_cancels_the_start()
    {
        var plan = PlanFixtures.Output(new PlanBuilder())
            .WaitForParent("wait for uid_map")
            .Exec("/bin/true", ["true"], PlanFixtures.Env)
            .Build();
        await using var child = CapturedChild.Launch(plan);

        child.Child.ReleaseSync();
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.Child.WaitForExecAsync(TestContext.Current.CancellationToken));

        Assert.Equal("wait for uid_map", error.Stage);
        Assert.Equal("ECANCELED", error.ErrnoName);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_launch_that_waits_for_the_pivot_returns_with_the_child_in_its_new_root_only()
    {
        Requires.Root();
        var fifo = Path.Combine(_dir, "fifo");
        await ImageFixtures.RunAsync(Requires.Tool("mkfifo"), fifo);
        var plan = new PlanBuilder(Isolated).MakePrivate()
            .WriteFile(fifo, "opened before the pivot", stage: "write to a fifo");
        PlanFixtures.BusyboxRoot(plan, _dir).ReturnAfterPivot()
            .WaitForParent("hold after the pivot")
            .Exec("/bin/sh", ["sh", "-c", "exit 0"], PlanFixtures.Env);

        // The child blocks before its pivot until this reader opens the fifo. The reader does so once the child
        // sits in openat and then either a thread of this process waits for a pivot (the launcher's shared futex
        // wait) or this test has read the child's mounts: a launch that returned at the clone would find the
        // child's mount table still the host's copy, and no timing decides which comes first.
        using var mountsRead = new ManualResetEventSlim();
        var reader = new TaskCompletionSource<string>();
        var thread = new Thread(() =>
        {
            try
            {
                WaitUntil(() => AChildIsIn(OpenAt), "a child blocked in openat");
                WaitUntil(() => mountsRead.IsSet || AThreadWaitsForAPivot(), "the launcher's wait for the pivot");
                reader.SetResult(File.ReadAllText(fifo));
            }
            catch (Exception e)
            {
                reader.SetException(e);
            }
        });
        thread.Start();
        await using var child = ChildProcess.Launch(plan.Build(), waitForPivot: true);

        // The old root is already detached (none of the host's mounts), and "/" is the plan's tmpfs.
        var mounts = File.ReadAllLines($"/proc/{child.Pid}/mountinfo")
            .Select(line => line.Split(' '))
            .Select(f => (Point: f[4], Type: f[Array.IndexOf(f, "-") + 1]))
            .ToList();
        mountsRead.Set();
        child.Continue();
        Assert.Equal("opened before the pivot", await reader.Task);
        Assert.Contains(("/", "tmpfs"), mounts);
        Assert.All(mounts, m => Assert.Contains(m.Point, new[] { "/", "/bin/busybox", "/proc" }));
        Assert.Equal(0, (await child.WaitAsync(TestContext.Current.CancellationToken)).ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_launch_that_waits_for_the_pivot_returns_for_a_child_that_fails_or_hangs_before_it()
    {
        Requires.Root();
        var failing = new PlanBuilder(Isolated).MakePrivate()
            .Bind(Path.Combine(_dir, "missing"), _dir, recursive: false, stage: "bind a missing source")
            .PivotRoot()
            .ReturnAfterPivot()
            .Exec("/bin/true", ["true"], PlanFixtures.Env)
            .Build();
        var fifo = Path.Combine(_dir, "fifo");
        await ImageFixtures.RunAsync(Requires.Tool("mkfifo"), fifo);
        var hanging = new PlanBuilder(Isolated).MakePrivate()
            .WriteFile(fifo, "never read", stage: "open a fifo nobody reads")
            .PivotRoot()
            .ReturnAfterPivot()
            .Exec("/bin/true", ["true"], PlanFixtures.Env)
            .Build();

        // The failed child exits, which wakes the launch; the hanging one is waited for a bounded time only.
        await using (var child = ChildProcess.Launch(failing, waitForPivot: true))
        {
            var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.WaitForExecAsync(TestContext.Current.CancellationToken));
            Assert.Equal("bind a missing source", error.Stage);
        }

        await using (var child = ChildProcess.Launch(hanging, waitForPivot: true))
        {
            Assert.True(child.Signal(9));
            Assert.Equal(9, (await child.WaitAsync(TestContext.Current.CancellationToken)).Signal);
        }
    }

    private static bool Arm64 => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64;

    /// <summary>openat's system call number, as <c>/proc/PID/syscall</c> shows a process blocked in it.</summary>
    private static int OpenAt => Arm64 ? 56 : 257;

    /// <summary>Whether a child of one of this process's threads is blocked in system call <paramref name="number"/>.</summary>
    private static bool AChildIsIn(int number) =>
        Directory.GetDirectories("/proc/self/task")
            .SelectMany(task => ReadOrEmpty(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(pid => ReadOrEmpty($"/proc/{pid}/syscall").StartsWith($"{number} ", StringComparison.Ordinal));

    /// <summary>
    /// Whether a thread of this process waits in <c>futex(FUTEX_WAIT_BITSET)</c> without the private flag: the shim's
    /// wait for a child's pivot on the launch's shared word. The runtime's own waits use private futexes.
    /// </summary>
    private static bool AThreadWaitsForAPivot()
    {
        var futex = Arm64 ? "98 " : "202 ";
        return Directory.GetDirectories("/proc/self/task")
            .Select(task => ReadOrEmpty(Path.Combine(task, "syscall")).Split(' '))
            .Any(fields => fields.Length > 2 && fields[0] + " " == futex && fields[2] == "0x9");
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited 30 s for {what}");
            }

            Thread.Yield();
        }
    }

    /// <summary>A /proc file's text, or empty when its thread or process ended meanwhile.</summary>
    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
