using System.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>Runs alone: it counts the whole process's fds, mounts and children, which parallel tests would change.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class SerialRuntimeCollection;

[Collection(typeof(SerialRuntimeCollection))]
public sealed class LeakTests
{
    private static readonly ProcessSpec ExecTrue = new() { Args = ["/bin/true"], Env = ["PATH=" + ContainerSpec.DefaultPath] };

    [Fact(Timeout = 600_000)]
    public async Task A_thousand_sequential_start_stop_cycles_leak_no_fd_mount_process_or_state_entry()
    {
        using var fixture = new RuntimeFixture();

        // Warm-up of every path: the first starts create the launch thread, the poller and their fds, which stay.
        await using (var target = await StartTargetAsync(fixture))
        {
            await CycleEveryPathAsync(fixture, target);
        }

        // Handles that earlier tests and the warm-up dropped without disposing are closed by finalizers at
        // unpredictable times: settle them once, before counting. Twice: what a finalizer released is collected only
        // by the next collection, and may hold finalizable handles of its own. No GC is forced after this: the last
        // round is counted inside a no-GC region, so a handle that only a finalizer frees shows as a leak.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // A child's mount namespace is released on a thread of its own after its exit is known (MountNamespaceHold): wait
        // for those releases, which are not leaks, before each count.
        await MountNamespaceHold.WhenReleasedAsync();
        var before = Count(fixture);
        string fdsBefore = Fds();

        for (var i = 0; i < 1000; i++)
        {
            var result = await fixture.Runtime.RunAsync(ContainerSpec.For("/bin/true"), TestContext.Current.CancellationToken);
            Assert.Equal(0, result.ExitCode);
        }

        await using (var target = await StartTargetAsync(fixture))
        {
            // Exec, and the terminal of an exec, must leave nothing in the namespace they join either.
            string mountsBefore = await File.ReadAllTextAsync($"/proc/{target.Pid}/mountinfo", TestContext.Current.CancellationToken);
            for (var i = 0; i < 20; i++)
            {
                await CycleEveryPathAsync(fixture, target);
            }

            Assert.Equal(mountsBefore, await File.ReadAllTextAsync($"/proc/{target.Pid}/mountinfo", TestContext.Current.CancellationToken));

            // The last round, the target's end and the count happen inside a no-GC region, so not even a collection
            // the runtime happened to trigger can close a forgotten handle before it is counted.
            Assert.True(GC.TryStartNoGCRegion(200L << 20), "the no-GC region could start");
            await CycleEveryPathAsync(fixture, target);
        }

        await MountNamespaceHold.WhenReleasedAsync();
        var after = Count(fixture);
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        GC.EndNoGCRegion();
        Assert.True(before == after, $"before: {before} (fds {fdsBefore}); after: {after} (fds {Fds()})");
    }

    private static string Fds() =>
        string.Join(' ', Directory.GetFiles("/proc/self/fd").Select(fd => $"{Path.GetFileName(fd)}={new FileInfo(fd).LinkTarget}"));

    /// <summary>A container that runs until disposed (killed; its sleep outlasts any test timeout): the other way a container ends, and a target for exec.</summary>
    private static async Task<Container> StartTargetAsync(RuntimeFixture fixture)
    {
        var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "3600"), TestContext.Current.CancellationToken);
        await container.StartAsync(TestContext.Current.CancellationToken);
        return container;
    }

    /// <summary>One start and end of each kind: run, create-start-kill, init, terminal, exec, exec on a terminal.</summary>
    private static async Task CycleEveryPathAsync(RuntimeFixture fixture, Container target)
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(0, (await fixture.Runtime.RunAsync(ContainerSpec.For("/bin/true"), ct)).ExitCode);

        await using (var killed = await StartTargetAsync(fixture))
        {
        }

        await using (var withInit = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/true"), new ContainerCreateOptions { Init = true }, ct))
        {
            await withInit.StartAsync(ct);
            Assert.Equal(0, (await withInit.WaitAsync(ct)).ExitCode);
        }

        await using (var onTerminal = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/echo", "tty").WithTerminal(), ct))
        {
            await onTerminal.StartAsync(ct);
            Assert.Contains("tty", await TerminalOutput.ReadToEndAsync(onTerminal.Terminal!), StringComparison.Ordinal);
            Assert.Equal(0, (await onTerminal.WaitAsync(ct)).ExitCode);
        }

        await using (var exec = await target.ExecAsync(ExecTrue, ContainerStdio.Pipes, ct))
        {
            await exec.Stdin.CompleteAsync();
            Assert.Equal(0, (await exec.CollectAsync(ct)).ExitCode);
        }

        await using (var execOnTerminal = await target.ExecAsync(ExecTrue with { Args = ["/bin/echo", "tty"], Terminal = true }, ContainerStdio.Pipes, ct))
        {
            Assert.Contains("tty", await TerminalOutput.ReadToEndAsync(execOnTerminal.Terminal!), StringComparison.Ordinal);
            Assert.Equal(0, (await execOnTerminal.WaitAsync(ct)).ExitCode);
        }
    }

    private static (int Fds, string Mounts, int Children, int States) Count(RuntimeFixture fixture) => (
        // Assemblies the runtime loads lazily along the way hold fds of their own: they are not container fds. Nor
        // are sockets, which the runtime never opens per container: earlier tests' HTTP connection pools close their
        // idle connections at their own times.
        Directory.GetFiles("/proc/self/fd").Count(fd => new FileInfo(fd).LinkTarget is not { } target
            || !(target.EndsWith(".dll", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal))),
        File.ReadAllText("/proc/self/mountinfo"),
        Directory.GetDirectories("/proc/self/task").Sum(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length),
        StateEntries.Of(fixture.StateDirectory).Length);
}
