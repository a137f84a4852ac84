using Containers.Images.Archives;

namespace Containers.Tests.Images;

public sealed class ImageSourceTests
{
    [Theory]
    [InlineData("blobs/sha256/abc", "blobs/sha256/abc")]
    [InlineData("./manifest.json", "manifest.json")]
    [InlineData("a//b/./c", "a/b/c")]
    [InlineData("a/b/../c", "a/c")]
    [InlineData("/index.json", "index.json")]
    [InlineData("..", null)]
    [InlineData("../x", null)]
    [InlineData("a/../../x", null)]
    [InlineData("", null)]
    [InlineData("./", null)]
    [InlineData("a/\0b", null)]
    public void Archive_names_normalise_inside_the_archive_or_are_rejected(string name, string? expected) =>
        Assert.Equal(expected, ImageSource.Normalize(name));
}
