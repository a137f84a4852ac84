using Containers.Cgroups;
using Containers.Cgroups.V2;
using Containers.Spec;
using static Containers.Tests.Cgroups.DeviceProgramInterpreter;

namespace Containers.Tests.Cgroups;

/// <summary>
/// The cgroup v2 device program, run by an interpreter on the requests the kernel makes: the rules mean what v1's
/// lists mean (the last matching rule decides, nothing matching denies). The v2 guest's integration tests run it in
/// the kernel.
/// </summary>
public sealed class DeviceProgramTests
{
    private static readonly ulong[] Standard = DeviceProgram.Compile(DeviceRules.Standard);

    [Theory]
    [InlineData(CharDevice, Read | Write, 1u, 3u)]   // /dev/null
    [InlineData(CharDevice, Read, 1u, 9u)]           // /dev/urandom
    [InlineData(CharDevice, Write, 5u, 0u)]          // /dev/tty
    [InlineData(CharDevice, Read | Write, 136u, 7u)] // a pts, any minor
    [InlineData(CharDevice, Read | Write, 10u, 200u)] // /dev/net/tun
    [InlineData(CharDevice, Mknod, 8u, 0u)]          // making any node
    [InlineData(BlockDevice, Mknod, 8u, 0u)]
    public void The_standard_list_allows_its_devices(int type, int access, uint major, uint minor) =>
        Assert.True(Allows(Standard, type, access, major, minor));

    [Theory]
    [InlineData(BlockDevice, Read, 8u, 0u)]           // a disk
    [InlineData(CharDevice, Read, 10u, 237u)]         // the loop control
    [InlineData(CharDevice, Read | Mknod, 10u, 237u)] // more than mknod
    [InlineData(CharDevice, Write, 1u, 1u)]           // /dev/mem
    [InlineData(BlockDevice, Read, 1u, 3u)]           // null's numbers as a block device
    [InlineData(CharDevice, Read, 4000u, 3u)]
    public void The_standard_list_denies_everything_else(int type, int access, uint major, uint minor) =>
        Assert.False(Allows(Standard, type, access, major, minor));

    [Fact]
    public void A_later_rule_overrides_an_earlier_one()
    {
        var program = DeviceProgram.Compile([.. DeviceRules.Standard, Rule(false, "c", 1, 3, "w"), Rule(true, "c", 10, 237, "r")]);

        Assert.True(Allows(program, CharDevice, Read, 1, 3));
        Assert.False(Allows(program, CharDevice, Write, 1, 3));
        Assert.False(Allows(program, CharDevice, Read | Write, 1, 3)); // a deny rule matches a request asking for any access it denies
        Assert.True(Allows(program, CharDevice, Read, 10, 237));
        Assert.False(Allows(program, CharDevice, Read | Write, 10, 237)); // an allow rule only covers what it names
        Assert.True(Allows(program, CharDevice, Read | Write, 1, 5));
    }

    [Fact]
    public void An_allow_all_rule_ends_the_program_and_a_later_deny_still_applies()
    {
        var everything = DeviceProgram.Compile([.. DeviceRules.Standard, Rule(true, null, null, null, null)]);
        var thenDenied = DeviceProgram.Compile([Rule(true, "a", null, null, "rwm"), Rule(false, "b", 8, null, null)]);

        Assert.True(Allows(everything, BlockDevice, Read | Write, 8, 0));
        Assert.True(Allows(everything, CharDevice, Read, 10, 237));
        Assert.False(Allows(thenDenied, BlockDevice, Read, 8, 16));
        Assert.True(Allows(thenDenied, BlockDevice, Read, 7, 0));
        Assert.True(Allows(thenDenied, CharDevice, Read, 8, 0));
    }

    [Fact]
    public void A_deny_all_rule_after_the_standard_list_denies_even_null()
    {
        var program = DeviceProgram.Compile([.. DeviceRules.Standard, Rule(false, "a", null, null, "rwm")]);

        Assert.False(Allows(program, CharDevice, Read, 1, 3));
        Assert.False(Allows(program, CharDevice, Mknod, 1, 3));
    }

    [Fact]
    public void No_rule_denies_everything()
    {
        var program = DeviceProgram.Compile([]);

        Assert.Equal(2 + 6, program.Length);
        Assert.False(Allows(program, CharDevice, Read, 1, 3));
    }

    [Fact]
    public void Numbers_above_2_to_the_31_compare_as_unsigned_32_bit_values()
    {
        var program = DeviceProgram.Compile([Rule(true, "c", 0xFFFF_FFFF, 0x8000_0000, "r")]);

        Assert.True(Allows(program, CharDevice, Read, 0xFFFF_FFFF, 0x8000_0000));
        Assert.False(Allows(program, CharDevice, Read, 0xFFFF_FFFF, 0));
    }

    private static LinuxDeviceCgroup Rule(bool allow, string? type, long? major, long? minor, string? access) =>
        new() { Allow = allow, Type = type, Major = major, Minor = minor, Access = access };
}
