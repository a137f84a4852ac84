using Containers.Images.Model;

namespace Containers.Tests.Images;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux/amd64", true)]
    [InlineData("linux/arm64", "linux/arm64/v8", true)]
    [InlineData("linux/arm64/v8", "linux/arm64", true)]
    [InlineData("linux/arm/v7", "linux/arm/v6", false)]
    [InlineData("linux/arm", "linux/arm/v6", true)]
    [InlineData("linux/amd64", "linux/arm64", false)]
    [InlineData("linux/amd64", "windows/amd64", false)]
    public void A_platform_matches_the_same_os_architecture_and_variant(string wanted, string candidate, bool matches) =>
        Assert.Equal(matches, Platform.Parse(wanted).Matches(Platform.Parse(candidate)));

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/amd64/v1/x")]
    [InlineData("linux//v7")]
    [InlineData("linux/am d64")]
    public void A_malformed_platform_is_rejected(string value) =>
        Assert.Throws<FormatException>(() => Platform.Parse(value));

    [Fact]
    public void The_host_platform_is_linux_with_a_known_architecture()
    {
        Assert.Equal("linux", Platform.Host.OS);
        Assert.Contains(Platform.Host.Architecture, new[] { "amd64", "arm64", "arm", "386", "s390x", "ppc64le", "riscv64", "loong64" });
    }
}
