using Containers.Distribution;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Tests.Distribution;

public sealed class PlatformSelectionTests
{
    private static readonly ImageReference Reference = ImageReference.Parse("busybox");

    private static Descriptor Entry(int n, string os, string arch, string? variant = null, string mediaType = MediaTypes.OciManifest) => new()
    {
        MediaType = mediaType,
        Digest = Digest.Sha256([(byte)n]),
        Size = 100 + n,
        Platform = new Platform { OS = os, Architecture = arch, Variant = variant },
    };

    private static ImageIndex Index(params Descriptor[] manifests) => new() { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = manifests };

    [Fact]
    public void The_manifest_for_the_platform_is_chosen_and_an_exact_variant_wins()
    {
        var index = Index(Entry(1, "linux", "amd64"), Entry(2, "linux", "arm", "v6"), Entry(3, "linux", "arm", "v7"), Entry(4, "linux", "arm64", "v8"));

        Assert.Equal(index.Manifests[0], ManifestResolver.Select(index, Platform.Parse("linux/amd64"), Reference));
        Assert.Equal(index.Manifests[2], ManifestResolver.Select(index, Platform.Parse("linux/arm/v7"), Reference));
        Assert.Equal(index.Manifests[3], ManifestResolver.Select(index, Platform.Parse("linux/arm64"), Reference));
    }

    [Fact]
    public void Attestations_and_nested_indexes_are_never_chosen_and_a_missing_platform_lists_what_exists()
    {
        var index = Index(Entry(1, "unknown", "unknown"), Entry(2, "linux", "s390x", mediaType: MediaTypes.OciIndex), Entry(3, "linux", "arm64"));

        var error = Assert.Throws<RegistryNotFoundException>(() => ManifestResolver.Select(index, Platform.Parse("linux/s390x"), Reference));

        Assert.Contains("has no image for linux/s390x", error.Message, StringComparison.Ordinal);
        Assert.Contains("linux/arm64", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("docker.io", "docker.io")]
    [InlineData("index.docker.io", "docker.io")]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("localhost:5000", "localhost:5000")]
    [InlineData("http://127.0.0.1:5000/", "127.0.0.1:5000")]
    [InlineData("ghcr.io", "ghcr.io")]
    public void Registry_names_are_normalised_as_docker_login_files_them(string typed, string expected) =>
        Assert.Equal(expected, RegistryClient.NormaliseRegistry(typed));

    [Theory]
    [InlineData("ghcr.io/org")]
    [InlineData("not a host")]
    public void Something_that_is_not_a_registry_name_is_refused(string typed) =>
        Assert.Throws<InvalidReferenceException>(() => RegistryClient.NormaliseRegistry(typed));
}
