using Containers.Cgroups;
using Containers.Cgroups.V1;
using Containers.Cgroups.V2;
using Containers.Spec;

namespace Containers.Tests.Cgroups;

/// <summary>
/// Where a block I/O weight goes, on a directory standing in for a cgroup: to each scheduler's weight file the
/// kernel offers, and refused naming the field when it offers none. Its effect is proven on real devices by the
/// integration tests (two readers of one device under BFQ).
/// </summary>
public sealed class BlockIoWeightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cgroup-io-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly LinuxBlockIO Weight300 = new() { Weight = 300 };

    [Fact]
    public void On_v2_the_weight_goes_to_io_cost_s_file_and_BFQ_s_when_the_kernel_has_both()
    {
        File.WriteAllText(Path.Combine(_dir, "io.weight"), "");
        File.WriteAllText(Path.Combine(_dir, "io.bfq.weight"), "");

        V2Io.Validate(_dir, Weight300);
        V2Io.Apply(_dir, Weight300);

        Assert.Equal("default 300", File.ReadAllText(Path.Combine(_dir, "io.weight")));
        Assert.Equal("default 300", File.ReadAllText(Path.Combine(_dir, "io.bfq.weight")));
    }

    [Fact]
    public void On_v2_a_kernel_with_BFQ_alone_gets_it_in_BFQ_s_file()
    {
        File.WriteAllText(Path.Combine(_dir, "io.bfq.weight"), "");

        V2Io.Apply(_dir, Weight300);

        Assert.Equal("default 300", File.ReadAllText(Path.Combine(_dir, "io.bfq.weight")));
        Assert.False(File.Exists(Path.Combine(_dir, "io.weight")));
    }

    [Fact]
    public void On_v1_the_weight_goes_to_BFQ_s_file_where_CFQ_s_is_gone()
    {
        File.WriteAllText(Path.Combine(_dir, "blkio.bfq.weight"), "");

        V1Blkio.Validate(_dir, Weight300);
        V1Blkio.Apply(_dir, Weight300);

        Assert.Equal("300", File.ReadAllText(Path.Combine(_dir, "blkio.bfq.weight")));
        Assert.False(File.Exists(Path.Combine(_dir, "blkio.weight")));
    }

    [Fact]
    public void A_host_with_no_weight_file_refuses_the_weight_naming_the_field()
    {
        var noDevices = Directory.CreateDirectory(Path.Combine(_dir, "block")).FullName;
        var v2 = Assert.Throws<CgroupException>(() => V2Io.Validate(_dir, Weight300, noDevices));
        var v1 = Assert.Throws<CgroupException>(() => V1Blkio.Validate(_dir, Weight300));

        Assert.Equal("linux.resources.blockIO.weight", v2.Field);
        Assert.Equal("linux.resources.blockIO.weight", v1.Field);
        Assert.Contains("has no weight", v2.Message, StringComparison.Ordinal);
        Assert.Contains("has no weight", v1.Message, StringComparison.Ordinal);

        // Without a weight there is nothing to refuse.
        V2Io.Validate(_dir, new LinuxBlockIO(), noDevices);
    }

    [Fact]
    public void A_root_cgroup_has_no_weight_file_yet_BFQ_s_counters_on_v1_or_a_device_offering_BFQ_on_v2_say_its_children_have_one()
    {
        var device = Directory.CreateDirectory(Path.Combine(_dir, "block", "loop0", "queue")).FullName;
        File.WriteAllText(Path.Combine(device, "scheduler"), "[none] mq-deadline bfq\n");
        File.WriteAllText(Path.Combine(_dir, "blkio.bfq.io_service_bytes"), "Total 0\n");

        V2Io.Validate(_dir, Weight300, Path.Combine(_dir, "block"));
        V1Blkio.Validate(_dir, Weight300);
    }

    [Fact]
    public void A_v2_root_with_io_cost_has_children_with_its_weight()
    {
        File.WriteAllText(Path.Combine(_dir, "io.cost.qos"), "");

        V2Io.Validate(_dir, Weight300, Directory.CreateDirectory(Path.Combine(_dir, "block")).FullName);
    }
}
