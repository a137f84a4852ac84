using Containers.Images.Model;

namespace Containers.Tests.Images;

/// <summary>The reference grammar and Docker normalisation, as tabled by the distribution project's reference tests.</summary>
public sealed class ImageReferenceTests
{
    private const string Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string, string, string, string?, string?> Valid => new()
    {
        { "busybox", "docker.io", "library/busybox", "latest", null },
        { "busybox:1.36", "docker.io", "library/busybox", "1.36", null },
        { "library/busybox", "docker.io", "library/busybox", "latest", null },
        { "docker.io/busybox", "docker.io", "library/busybox", "latest", null },
        { "index.docker.io/busybox:musl", "docker.io", "library/busybox", "musl", null },
        { "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", null },
        { "dmcgowan/myapp", "docker.io", "dmcgowan/myapp", "latest", null },
        { "dmcgowan/myapp/sub:v2", "docker.io", "dmcgowan/myapp/sub", "v2", null },
        { "localhost/foo", "localhost", "foo", "latest", null },
        { "localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", null },
        { "example.com/foo", "example.com", "foo", "latest", null },
        { "Example.COM/foo", "Example.COM", "foo", "latest", null },
        { $"example.com:8080/foo@sha256:{Hex}", "example.com:8080", "foo", null, $"sha256:{Hex}" },
        { $"foo:bar@sha256:{Hex}", "docker.io", "library/foo", "bar", $"sha256:{Hex}" },
        { "[2001:db8::1]/foo", "[2001:db8::1]", "foo", "latest", null },
        { "[2001:db8::1]:5000/foo:tag", "[2001:db8::1]:5000", "foo", "tag", null },
        { "foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", null },
        { "lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", null },
        { "a-b--c/d.e_f__g", "docker.io", "a-b--c/d.e_f__g", "latest", null },
        { "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", null },
        { "127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", null },
        { "a" + new string('1', 120) + ":" + new string('t', 128), "docker.io", "library/a" + new string('1', 120), new string('t', 128), null },
    };

    public static TheoryData<string, string> Invalid => new()
    {
        { "", "empty" },
        { ":justtag", "empty" },
        { $"@sha256:{Hex}", "empty" },
        { "Uppercase:tag", "lowercase" },
        { "example.com/Uppercase", "lowercase" },
        { "a/a:/", "repository path" },
        { "aa/asdf$$^/aa", "repository path" },
        { "repo@sha256:ffff", "digest" },
        { $"repo@sha256:{Hex.ToUpperInvariant()}", "digest" },
        { "validname@invaliddigest:ecc2", "digest" },
        { "a:", "tag" },
        { "a:-x", "tag" },
        { "-foo", "repository path" },
        { "foo-", "repository path" },
        { "foo___bar", "repository path" },
        { "foo..bar", "repository path" },
        { "docker.io/a/", "repository path" },
        { "foo_bar.com:8080/app", "registry" },
        { "-example.com/app", "registry" },
        { Hex, "hexadecimal" },
        { "a:" + new string('t', 129), "tag" },
        { "example.com/" + new string('a', 250), "longer than 255" },
        { "sha256:../../x", "registry" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void A_valid_reference_parses_and_normalises(string input, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(input);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest?.ToString());
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
        Assert.Equal(reference.ToString(), ImageReference.Parse(reference.FamiliarName).ToString());
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void An_invalid_reference_is_rejected_with_the_reason(string input, string reason)
    {
        var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(input));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(ImageReference.TryParse(input, out _));
    }

    [Theory]
    [InlineData("busybox", "busybox:latest")]
    [InlineData("docker.io/library/busybox:1", "busybox:1")]
    [InlineData("docker.io/team/app:1", "team/app:1")]
    [InlineData("docker.io/library/a/b", "library/a/b:latest")]
    [InlineData("localhost:5000/app", "localhost:5000/app:latest")]
    public void The_familiar_name_drops_docker_io_and_library(string input, string familiar) =>
        Assert.Equal(familiar, ImageReference.Parse(input).FamiliarName);

    [Fact]
    public void WithTag_replaces_the_tag_and_drops_the_digest()
    {
        var reference = ImageReference.Parse($"example.com/app:1@sha256:{Hex}").WithTag("2");

        Assert.Equal("example.com/app:2", reference.ToString());
        Assert.Throws<InvalidReferenceException>(() => reference.WithTag(".bad"));
    }
}
