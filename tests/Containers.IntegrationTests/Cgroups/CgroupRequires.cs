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

    /// <summary>Whether every directory is gone.</summary>
    public static string[] Remaining(IEnumerable<string> dirs) => [.. dirs.Where(Directory.Exists)];
}
