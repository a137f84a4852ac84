using System.Collections.Immutable;
using Containers.Cgroups;
using Containers.Cgroups.V1;
using Containers.Cgroups.V2;
using Containers.Spec;

namespace Containers.Tests.Cgroups;

/// <summary>
/// Where <c>linux.resources.unified["memory.high"]</c> goes, on a directory standing in for a cgroup: to v2's
/// <c>memory.high</c> in decimal or as <c>max</c>, beside <c>memory.max</c>; refused naming the field on v1 and where
/// the v2 memory controller is missing. Its effect (the kernel throttling without killing) is proven in the v2 guest
/// by the integration tests.
/// </summary>
public sealed class MemoryHighTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cgroup-memory-").FullName;

    public MemoryHighTests()
    {
        foreach (var file in new[] { "memory.max", "memory.high", "memory.low", "memory.swap.max" })
        {
            File.WriteAllText(Path.Combine(_dir, file), "");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_v2_cgroup_gets_memory_high_in_decimal_beside_memory_max()
    {
        var resources = ContainerSpec.For("/bin/true").WithMemoryLimit(1L << 30).WithMemoryHigh(512L << 20).Linux!.Resources!;

        new V2Cgroup(_dir).Update(resources);

        Assert.Equal("536870912", Read("memory.high"));
        Assert.Equal("1073741824", Read("memory.max"));
        Assert.Equal("", Read("memory.low"));
    }

    [Fact]
    public void A_v2_update_to_max_removes_the_throttle_and_leaves_the_other_limits_alone()
    {
        var resources = new LinuxResources { Unified = ImmutableSortedDictionary<string, string>.Empty.Add("memory.high", "max") };

        new V2Cgroup(_dir).Update(resources);

        Assert.Equal("max", Read("memory.high"));
        Assert.Equal("", Read("memory.max"));
    }

    [Fact]
    public void Limits_without_memory_high_leave_its_file_alone()
    {
        new V2Cgroup(_dir).Update(new LinuxResources { Memory = new LinuxMemory { Limit = 1L << 20 } });

        Assert.Equal("", Read("memory.high"));
        Assert.Equal("1048576", Read("memory.max"));
    }

    [Fact]
    public void V2_stats_count_the_throttle_events_from_memory_events_high()
    {
        File.WriteAllText(Path.Combine(_dir, "memory.events"), "low 0\nhigh 7\nmax 0\noom 0\noom_kill 2\noom_group_kill 0\n");
        using var files = new CgroupFiles();

        var memory = V2Memory.Read(files, _dir);

        Assert.Equal(7, memory.HighEvents);
        Assert.Equal(2, memory.OomKills);
    }

    [Fact]
    public void A_v1_host_refuses_memory_high_naming_the_field_before_anything_else()
    {
        var driver = new V1Driver(CgroupLayout.Hybrid, [], [], null, "containers-test");
        var resources = ContainerSpec.For("/bin/true").WithMemoryHigh(64L << 20).Linux!.Resources!;

        var error = Assert.Throws<CgroupException>(() => driver.Validate(resources));

        Assert.Equal("linux.resources.unified[\"memory.high\"]", error.Field);
        Assert.Contains("cgroup v1 has no memory.high", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_v2_host_without_the_memory_controller_refuses_memory_high_naming_the_field()
    {
        File.WriteAllText(Path.Combine(_dir, "cgroup.controllers"), "cpu io pids\n");
        var driver = new V2Driver(_dir, "/containers-test", defaultParent: false);
        var resources = ContainerSpec.For("/bin/true").WithMemoryHigh(64L << 20).Linux!.Resources!;

        var error = Assert.Throws<CgroupException>(() => driver.Validate(resources));

        Assert.Equal("linux.resources.unified[\"memory.high\"]", error.Field);
        Assert.Contains("'memory' controller is not available", error.Message, StringComparison.Ordinal);
    }

    private string Read(string file) => File.ReadAllText(Path.Combine(_dir, file));
}
