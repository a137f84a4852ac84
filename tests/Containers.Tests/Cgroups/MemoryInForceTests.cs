using System.Collections.Immutable;
using Containers.Cgroups;
using Containers.Cgroups.V1;
using Containers.Cgroups.V2;
using Containers.Spec;

namespace Containers.Tests.Cgroups;

/// <summary>
/// An update's memory limits checked against what the cgroup holds: the limits in force read from v1's and v2's
/// files (directories standing in for cgroups), and the rules applied to the update on top of them. The kernel's
/// side (a running container's update refused and its cgroup unchanged) is in the integration tests.
/// </summary>
public sealed class MemoryInForceTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("cgroup-in-force-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void V2_reads_max_as_none_and_numbers_as_bytes()
    {
        Write("memory.events", "oom_kill 0\n");
        Write("memory.max", "67108864\n");
        Write("memory.low", "0\n");
        Write("memory.high", "max\n");

        using var cgroup = new V2Cgroup(_dir);

        Assert.Equal(new MemoryInForce(64 * MiB, null, null), cgroup.ReadMemoryInForce());
    }

    [Fact]
    public void V1_reads_the_kernels_near_maximum_as_none()
    {
        Write("memory.limit_in_bytes", "9223372036854771712\n");
        Write("memory.soft_limit_in_bytes", "33554432\n");

        using var cgroup = new V1Cgroup(new Dictionary<string, string> { ["memory"] = _dir });

        Assert.Equal(new MemoryInForce(null, 32 * MiB, null), cgroup.ReadMemoryInForce());
    }

    [Fact]
    public void A_reservation_above_the_limit_in_force_is_refused_naming_the_reservation()
    {
        var errors = new MemoryInForce(64 * MiB, null, null).Check(Memory(reservation: 128 * MiB));

        Assert.Equal("linux.resources.memory.reservation", Assert.Single(errors).JsonPath);
    }

    [Fact]
    public void A_limit_below_the_reservation_or_high_in_force_is_refused_naming_the_limit_for_each()
    {
        var errors = new MemoryInForce(64 * MiB, 32 * MiB, 48 * MiB).Check(Memory(limit: 16 * MiB));

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("linux.resources.memory.limit", e.JsonPath));
        Assert.Contains("reservation in force (33554432)", errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("memory.high in force (50331648)", errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_high_above_the_limit_in_force_is_refused_naming_memory_high()
    {
        var update = new LinuxResources { Unified = ImmutableSortedDictionary<string, string>.Empty.Add("memory.high", "134217728") };

        var errors = new MemoryInForce(64 * MiB, null, null).Check(update);

        Assert.Equal("linux.resources.unified[\"memory.high\"]", Assert.Single(errors).JsonPath);
    }

    [Theory]
    [InlineData(16L << 20, 8L << 20)] // both lowered together
    [InlineData(-1L, null)] // the limit lifted: nothing is above "none"
    [InlineData(null, 0L)] // the reservation cleared
    public void Updates_that_leave_the_limits_consistent_pass(long? limit, long? reservation)
    {
        Assert.Empty(new MemoryInForce(64 * MiB, 32 * MiB, null).Check(Memory(limit, reservation)));
    }

    [Fact]
    public void Limits_in_force_that_the_update_does_not_touch_are_not_its_errors()
    {
        // A cgroup left inconsistent by someone else: an update of the pids limit is not refused for it.
        Assert.Empty(new MemoryInForce(16 * MiB, 32 * MiB, null).Check(new LinuxResources { Pids = new LinuxPids(64) }));
    }

    private static LinuxResources Memory(long? limit = null, long? reservation = null) =>
        new() { Memory = new LinuxMemory { Limit = limit, Reservation = reservation } };

    private void Write(string file, string text) => File.WriteAllText(Path.Combine(_dir, file), text);
}
