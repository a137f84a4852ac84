using Containers.Linux;
using Containers.Runtime.Plan;

namespace Containers.Tests.Runtime.Plan;

public sealed class MountOptionsTests
{
    [Fact]
    public void Flags_become_mount_flags_and_the_rest_becomes_filesystem_data()
    {
        var options = MountOptions.Parse(["nosuid", "nodev", "ro", "mode=1777", "size=65536k", "rprivate"]);

        Assert.Equal(MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly, options.Flags);
        Assert.Equal("mode=1777,size=65536k", options.Data);
        Assert.True(options.ReadOnly);
        Assert.False(options.Bind);
    }

    [Fact]
    public void Rbind_is_a_recursive_bind_and_rw_is_the_default()
    {
        var options = MountOptions.Parse(["rbind", "rw"]);

        Assert.True(options.Bind);
        Assert.True(options.Recursive);
        Assert.False(options.ReadOnly);
        Assert.Null(options.Data);
    }
}
