using Containers.Cgroups;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cgroups;

/// <summary>Skips a cgroup test on a host of the other cgroup version; each version's tests run where it is the host's (v2 in the qemu guest).</summary>
internal static class CgroupRequires
{
    public static void V1Root()
    {
        Requires.Root();
        var layout = CgroupDriver.DetectLayout();
        Assert.SkipUnless(layout is CgroupLayout.Hybrid or CgroupLayout.Legacy, $"needs cgroup v1 (this host's layout is {layout?.ToString() ?? "none"}; the v2 tests cover it)");
    }

    public static void V2Root()
    {
        Requires.Root();
        var layout = CgroupDriver.DetectLayout();
        Assert.SkipUnless(layout is CgroupLayout.Unified, $"needs cgroup v2 (this host's layout is {layout?.ToString() ?? "none"}; the v1 tests cover it)");
    }

    /// <summary>Skips unless the host is cgroup v2 and the test runs unprivileged (the guest's rootless pass).</summary>
    public static void V2Rootless()
    {
        Requires.NotRoot();
        var layout = CgroupDriver.DetectLayout();
        Assert.SkipUnless(layout is CgroupLayout.Unified, $"needs cgroup v2 (this host's layout is {layout?.ToString() ?? "none"}; the v1 tests cover it)");
    }

    /// <summary>Whether every directory is gone.</summary>
    public static string[] Remaining(IEnumerable<string> dirs) => [.. dirs.Where(Directory.Exists)];

    /// <summary>
    /// Makes each of <paramref name="dirs"/> that exists look made two minutes ago (cgroupfs takes a directory's times
    /// from its owner): older than the minute a runtime's open leaves an empty parent alone.
    /// </summary>
    public static void Age(IEnumerable<string> dirs)
    {
        foreach (var dir in dirs)
        {
            try
            {
                Directory.SetLastWriteTimeUtc(dir, DateTime.UtcNow - TimeSpan.FromMinutes(2));
            }
            catch (IOException)
            {
                // Swept meanwhile.
            }
        }
    }

    /// <summary>
    /// The directories still there once every one is gone or a generous deadline passed: a deleted container's
    /// cgroup is removed by its runtime's pool thread, soon after the delete returns.
    /// </summary>
    public static async Task<string[]> RemainingAfterRemovalAsync(IEnumerable<string> dirs, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TestTime.Scale(TimeSpan.FromSeconds(20));
        while (Remaining(dirs).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cancellationToken);
        }

        return Remaining(dirs);
    }

    /// <summary>The pooled cgroups (made ahead, named after their maker) beside each of <paramref name="dirs"/> that process <paramref name="pid"/> made.</summary>
    public static string[] PooledBeside(IEnumerable<string> dirs, int pid) =>
        [.. dirs.Select(Path.GetDirectoryName).Distinct().Where(Directory.Exists)
            .SelectMany(parent => Directory.EnumerateDirectories(parent!, $"{CgroupPool.Prefix}{pid}-*"))];

    /// <summary>Waits until <paramref name="runtime"/>'s cgroup pool holds <paramref name="count"/> cgroups made ahead.</summary>
    public static async Task WaitForPoolAsync(Containers.Runtime.ContainerRuntime runtime, int count, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TestTime.Scale(TimeSpan.FromSeconds(30));
        while (runtime.CgroupPoolOrNull is not { } pool || pool.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the cgroup pool did not fill: {runtime.CgroupPoolOrNull?.Count} of {count}, {runtime.CgroupPoolOrNull?.Failure}");
            await Task.Delay(20, cancellationToken);
        }
    }
}
