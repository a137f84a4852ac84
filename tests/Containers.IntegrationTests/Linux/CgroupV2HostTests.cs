using System.Diagnostics;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Linux;

/// <summary>
/// What the cgroup v2 tests stand on, checked by its effects: the hierarchy is v2 alone, pressure stall information is
/// on, and the kernel charges this process's memory, tasks and CPU time to its own cgroup (so those controllers are
/// enabled down to it). A failure here points at the machine (or at build/v2guest.sh), not at the cgroup driver.
/// Runs alone: a v2 cgroup's counters include its descendants, among them the cgroups of the containers that
/// parallel tests start and end (one such test saw memory.current fall by 62 MB while this one touched 64 MB).
/// </summary>
[Trait("Category", Requires.CgroupV2Trait)]
[Collection(typeof(Runtime.SerialRuntimeCollection))]
public sealed class CgroupV2HostTests
{
    [ScaledFact(30_000)]
    public Task The_process_is_in_one_v2_hierarchy_with_pressure_stall_information()
    {
        Requires.CgroupV2();

        // One hierarchy: a v1 controller would add a "N:controller:/path" line.
        var lines = File.ReadAllLines("/proc/self/cgroup");
        Assert.True(lines.Length == 1 && lines[0].StartsWith("0::/", StringComparison.Ordinal), string.Join('\n', lines));
        // The kernel lists what a cgroup's parent enables for it.
        var available = File.ReadAllText(Path.Combine(OwnCgroup(), "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
        Assert.Subset(available.ToHashSet(), new HashSet<string> { "cpu", "cpuset", "io", "memory", "pids" });
        // psi=1: without it the pressure files exist on 6.1 but reading them fails with EOPNOTSUPP.
        var pressure = File.ReadAllText(Path.Combine(OwnCgroup(), "memory.pressure"));
        Assert.StartsWith("some avg10=", pressure, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [ScaledFact(60_000)]
    public Task Memory_this_process_touches_is_charged_to_its_cgroup()
    {
        Requires.CgroupV2();
        const int size = 64 << 20;

        var before = ReadNumber("memory.current");
        var block = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        for (var i = 0; i < size; i += 4096)
        {
            block[i] = 1;
        }

        var after = ReadNumber("memory.current");
        GC.KeepAlive(block);

        Assert.True(after - before >= size * 3L / 4, $"memory.current rose by {after - before} bytes after touching {size}");
        return Task.CompletedTask;
    }

    [ScaledFact(60_000)]
    public async Task Child_processes_are_counted_by_the_pids_controller()
    {
        Requires.CgroupV2();
        const int count = 8;

        var before = ReadNumber("pids.current");
        var children = Enumerable.Range(0, count).Select(_ => Process.Start("sleep", "60")).ToList();
        try
        {
            var during = ReadNumber("pids.current");
            Assert.True(during - before >= count, $"pids.current rose from {before} to {during} with {count} children");
        }
        finally
        {
            foreach (var child in children)
            {
                child.Kill();
                await child.WaitForExitAsync(TestContext.Current.CancellationToken);
                child.Dispose();
            }
        }
    }

    [ScaledFact(120_000)]
    public Task Cpu_time_this_process_uses_is_charged_to_its_cgroup()
    {
        Requires.CgroupV2();
        using var self = Process.GetCurrentProcess();

        // The cgroup holds this whole process (and maybe more): its usage rises at least as much as the process's.
        var cgroupBefore = ReadUsage();
        var processBefore = self.TotalProcessorTime;
        var spins = 0L;
        do
        {
            spins++;
            self.Refresh();
        }
        while (self.TotalProcessorTime - processBefore < TimeSpan.FromMilliseconds(300));

        var processSpent = self.TotalProcessorTime - processBefore;
        var cgroupSpent = ReadUsage() - cgroupBefore;
        Assert.True(spins > 0);
        Assert.True(cgroupSpent >= (long)(processSpent.TotalMicroseconds * 0.9),
            $"cpu.stat usage_usec rose by {cgroupSpent} µs while this process used {processSpent.TotalMicroseconds} µs of CPU");
        return Task.CompletedTask;

        static long ReadUsage() => long.Parse(File.ReadLines(Path.Combine(OwnCgroup(), "cpu.stat"))
            .First(line => line.StartsWith("usage_usec ", StringComparison.Ordinal))["usage_usec ".Length..]);
    }

    private static string OwnCgroup() => "/sys/fs/cgroup" + File.ReadAllLines("/proc/self/cgroup")[0]["0::".Length..];

    private static long ReadNumber(string file) => long.Parse(File.ReadAllText(Path.Combine(OwnCgroup(), file)).Trim());
}
