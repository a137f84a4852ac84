using Containers.IntegrationTests.Support;
using Containers.Linux;
using Containers.IntegrationTests.Runtime;
using Containers.Runtime;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.IntegrationTests.Linux;

/// <summary>Runs alone: one test counts the process's network namespace fds, which parallel starts would change.</summary>
[Collection(typeof(SerialRuntimeCollection))]
public sealed class NetworkNamespacePoolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_pooled_namespace_is_a_new_one_with_only_loopback_and_loopback_up_and_a_child_can_join_it()
    {
        Requires.Root();
        string ip = Requires.Tool("ip");
        await using var pool = new NetworkNamespacePool(capacity: 2);
        pool.Start();
        using var netns = await pool.TakeAsync(Ct);

        var plan = PlanFixtures.Output(new PlanBuilder());
        var slot = plan.ImportFd();
        plan.SetNs(slot, CloneFlags.NewNet, "join the pooled network namespace")
            .Exec("/bin/sh", ["sh", "-c", $"readlink /proc/self/ns/net; {ip} -o link"], PlanFixtures.Env);
        await using var child = CapturedChild.Launch(plan.Build(), netns);
        await child.Child.WaitForExecAsync(Ct);
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(NamespaceOf(netns), lines[0]);
        Assert.NotEqual(HostNamespace, lines[0]);
        var link = Assert.Single(lines[1..]);
        Assert.Contains(": lo: <LOOPBACK,UP,LOWER_UP>", link, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_take_is_a_different_namespace_and_the_pool_refills_past_its_capacity()
    {
        Requires.Root();
        await using var pool = new NetworkNamespacePool(capacity: 2);
        pool.Start();

        var taken = new List<SafeFileHandle>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                taken.Add(await pool.TakeAsync(Ct));
                Assert.InRange(pool.Count, 0, pool.Capacity);
            }

            var namespaces = taken.Select(NamespaceOf).ToList();
            Assert.Equal(6, namespaces.Distinct().Count());
            Assert.DoesNotContain(HostNamespace, namespaces);
            Assert.Null(pool.Failure);
        }
        finally
        {
            taken.ForEach(fd => fd.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_namespace_taken_without_waiting_is_replaced_once_its_taker_replenishes()
    {
        Requires.Root();
        await using var pool = new NetworkNamespacePool(capacity: 2);
        pool.Start();
        Assert.True(SpinWait.SpinUntil(() => pool.Count == pool.Capacity, TimeSpan.FromSeconds(30)), "the pool filled up");

        using var netns = pool.TryTake();

        Assert.NotNull(netns);
        Assert.Equal(pool.Capacity - 1, pool.Count);
        pool.Replenish();
        Assert.True(SpinWait.SpinUntil(() => pool.Count == pool.Capacity, TimeSpan.FromSeconds(30)), "the pool made a replacement");
        Assert.Null(pool.Failure);
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_the_pool_closes_the_namespaces_nobody_took_and_ends_its_thread()
    {
        Requires.Root();
        int before = NamespaceFds();
        var pool = new NetworkNamespacePool(capacity: 3);
        pool.Start();
        using (await pool.TakeAsync(Ct))
        {
        }

        // Waits for the refill to reach capacity: the pool then holds namespaces that only it can close.
        Assert.True(SpinWait.SpinUntil(() => pool.Count == pool.Capacity, TimeSpan.FromSeconds(30)), "the pool filled up");
        Assert.Equal(before + pool.Capacity, NamespaceFds());

        await pool.DisposeAsync();

        Assert.Equal(before, NamespaceFds());
        Assert.Null(pool.TryTake());
        Assert.DoesNotContain(Directory.GetDirectories("/proc/self/task"), task => ThreadName(task).StartsWith("containers-netn", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_runtime_starts_containers_in_pooled_namespaces_each_new_with_loopback_up_and_closes_the_rest_when_disposed()
    {
        Requires.Root();
        string ip = Requires.Tool("ip");
        var loggers = new CapturingLoggerFactory();
        var state = Directory.CreateTempSubdirectory("containers-state-").FullName;
        try
        {
            var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = state, LoggerFactory = loggers, NetworkNamespacePoolSize = 2 }, Ct);
            var prepared = runtime.Prepare(ContainerSpec.For("/bin/sh", "-c", $"readlink /proc/self/ns/net; {ip} -o link"));
            var seen = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                // Each start finds a namespace ready (the pool refills between them), so each joins one.
                Assert.True(SpinWait.SpinUntil(() => runtime.NetworkPool?.Count > 0, TimeSpan.FromSeconds(30)), "the pool has a namespace ready");
                var result = await prepared.RunAsync(cancellationToken: Ct);

                Assert.Equal(0, result.ExitCode);
                var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                seen.Add(lines[0]);
                Assert.Contains(": lo: <LOOPBACK,UP,LOWER_UP>", Assert.Single(lines[1..]), StringComparison.Ordinal);
            }

            // (Not distinct: a namespace's inode number is reused once the last container in it has gone.)
            Assert.DoesNotContain(HostNamespace, seen);
            var created = loggers.Events.Where(e => e.Id.Id == 1011).ToList();
            Assert.Equal(5, created.Count);
            Assert.All(created, e => Assert.Equal(true, e.Fields["PooledNetwork"]));

            // The pool itself is proven to close what it holds (Disposing_the_pool_...); here, that the runtime disposes it.
            var pool = runtime.NetworkPool!;
            await runtime.DisposeAsync();
            Assert.Equal(0, pool.Count);
            Assert.Null(pool.TryTake());
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_pool_makes_its_namespaces_on_its_own_thread_and_leaves_every_thread_in_the_host_namespace()
    {
        Requires.Root();
        await using var pool = new NetworkNamespacePool(capacity: 2);
        pool.Start();
        for (var i = 0; i < 5; i++)
        {
            using var netns = await pool.TakeAsync(Ct);
            Assert.NotEqual(HostNamespace, NamespaceOf(netns));
        }

        // Once the pool is full again its thread waits for a take, after it went home from the last namespace.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (pool.Count < pool.Capacity && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal(pool.Capacity, pool.Count);
        var elsewhere = Directory.GetDirectories("/proc/self/task")
            .Select(task => (Task: Path.GetFileName(task), Net: TryLink(Path.Combine(task, "ns/net"))))
            .Where(t => t.Net is not null && t.Net != HostNamespace)
            .ToList();
        Assert.True(elsewhere.Count == 0, "threads outside the host's network namespace: " + string.Join(", ", elsewhere));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_privileges_the_pool_stops_and_says_why_and_hands_out_nothing()
    {
        Requires.NotRoot();
        await using var pool = new NetworkNamespacePool(capacity: 2);
        pool.Start();

        var error = await Assert.ThrowsAsync<ContainersException>(() => pool.TakeAsync(Ct));

        var failure = Assert.IsType<ContainersException>(error.InnerException);
        Assert.Contains("unshare(CLONE_NEWNET): EPERM", failure.Message, StringComparison.Ordinal);
        Assert.Same(failure, pool.Failure);
        Assert.Null(pool.TryTake());
    }

    private static string? TryLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            // The thread ended meanwhile.
            return null;
        }
    }

    private static string HostNamespace => new FileInfo("/proc/self/ns/net").LinkTarget!;

    private static string NamespaceOf(SafeFileHandle fd) => new FileInfo($"/proc/self/fd/{fd.DangerousGetHandle()}").LinkTarget!;

    private static int NamespaceFds() =>
        Directory.GetFiles("/proc/self/fd").Count(fd => new FileInfo(fd).LinkTarget?.StartsWith("net:[", StringComparison.Ordinal) == true);

    /// <summary>A thread's name, or empty when it ended between the listing and the read.</summary>
    private static string ThreadName(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm"));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            return string.Empty;
        }
    }
}
