using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>Runs alone: it counts the whole process's fds, mounts and children, which parallel tests would change.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class SerialRuntimeCollection;

[Collection(typeof(SerialRuntimeCollection))]
public sealed class LeakTests
{
    [Fact(Timeout = 300_000)]
    public async Task A_thousand_sequential_start_stop_cycles_leak_no_fd_mount_process_or_state_entry()
    {
        using var fixture = new RuntimeFixture();
        var spec = ContainerSpec.For("/bin/true");

        // Warm-up of both paths: the first starts create the launch thread, the poller and their fds, which stay.
        Assert.Equal(0, (await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken)).ExitCode);
        await using (var warm = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken))
        {
            await warm.StartAsync(TestContext.Current.CancellationToken);
        }

        var before = Snapshot(fixture);

        for (var i = 0; i < 1000; i++)
        {
            var result = await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken);
            Assert.Equal(0, result.ExitCode);
        }

        // A few created-and-killed ones too: the other way a container ends.
        for (var i = 0; i < 20; i++)
        {
            await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), TestContext.Current.CancellationToken);
            await container.StartAsync(TestContext.Current.CancellationToken);
        }

        var after = Snapshot(fixture);
        Assert.Equal(before, after);
    }

    private static (int Fds, int Mounts, int Children, int States) Snapshot(RuntimeFixture fixture)
    {
        // Handles other tests dropped without disposing are closed by finalizers at unpredictable times: settle them.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Count(fixture);
    }

    private static (int Fds, int Mounts, int Children, int States) Count(RuntimeFixture fixture) => (
        // Assemblies the runtime loads lazily along the way hold fds of their own: they are not container fds.
        Directory.GetFiles("/proc/self/fd").Count(fd => new FileInfo(fd).LinkTarget?.EndsWith(".dll", StringComparison.Ordinal) != true),
        File.ReadAllLines("/proc/self/mountinfo").Length,
        Directory.GetDirectories("/proc/self/task").Sum(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length),
        Directory.GetFileSystemEntries(fixture.StateDirectory).Length);
}
