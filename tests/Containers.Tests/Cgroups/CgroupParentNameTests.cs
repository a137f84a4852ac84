using Containers.Cgroups;

namespace Containers.Tests.Cgroups;

public sealed class CgroupParentNameTests
{
    [Theory]
    [InlineData("", "cbf29ce48422")] // FNV-1a 64's published test vectors: offset basis, then "a" and "foobar"
    [InlineData("a", "af63dc4c8601")]
    [InlineData("foobar", "85944171f739")]
    public void The_default_parent_is_named_by_the_FNV_1a_hash_of_the_state_directory(string stateDirectory, string expected) =>
        Assert.Equal(expected, CgroupDriver.ParentHash(stateDirectory));

    [Fact]
    public void Two_state_directories_get_two_parents() =>
        Assert.NotEqual(CgroupDriver.ParentHash("/run/containers-net"), CgroupDriver.ParentHash("/run/containers-net2"));
}
