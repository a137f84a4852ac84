using System.Text;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Tests.Images;

public sealed class ImageDocumentsTests
{
    private const string Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string Layer = $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{{Hex}}","size":10}""";
    private const string Config = $$"""{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{Hex}}","size":2}""";
    private const string Manifest = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{Config}},"layers":[{{Layer}}]}""";

    public static TheoryData<string, string, string?, string> RejectedManifests => new()
    {
        { "index and manifest fields at once", $$"""{"schemaVersion":2,"config":{{Config}},"layers":[],"manifests":[]}""", null, "ambiguous" },
        { "a document type that contradicts the descriptor", Manifest, MediaTypes.OciIndex, "the descriptor says" },
        { "an index media type on manifest content", $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","config":{{Config}},"layers":[]}""", null, "names an index" },
        { "an index where a manifest is expected", """{"schemaVersion":2,"manifests":[]}""", null, "expected an image manifest" },
        { "schema version 1", Manifest.Replace("\"schemaVersion\":2", "\"schemaVersion\":1", StringComparison.Ordinal), null, "schemaVersion" },
        { "a digest that is a path", Manifest.Replace($"sha256:{Hex}\",\"size\":10", "sha256:../../x\",\"size\":10", StringComparison.Ordinal), null, "malformed" },
        { "duplicate keys", Manifest.Replace("\"schemaVersion\":2,", "\"schemaVersion\":2,\"schemaVersion\":2,", StringComparison.Ordinal), null, "not valid JSON" },
        { "an unknown layer media type", Manifest.Replace("tar+gzip", "tar+lz4", StringComparison.Ordinal), null, "unsupported media type" },
        { "a non-image config", Manifest.Replace("image.config.v1+json", "custom+json", StringComparison.Ordinal), null, "not an image config" },
        { "a JSON array", "[]", null, "must be a JSON object" },
        { "truncated JSON", Manifest[..^3], null, "not valid JSON" },
        { "deep nesting", new string('[', 64) + new string(']', 64), null, "not valid JSON" },
        { "a missing config", """{"schemaVersion":2,"layers":[]}""", null, "config" },
    };

    [Theory]
    [MemberData(nameof(RejectedManifests))]
    public void A_bad_manifest_is_rejected_with_a_clear_reason(string _, string json, string? declared, string reason)
    {
        var error = Assert.Throws<InvalidImageException>(() => ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(json), declared, "manifest"));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_over_the_size_bound_is_refused()
    {
        var padded = Encoding.UTF8.GetBytes(Manifest + new string(' ', ImageDocuments.MaxDocumentSize));

        var error = Assert.Throws<InvalidImageException>(() => ImageDocuments.ReadManifest(padded, null, "manifest"));

        Assert.Contains("more than the", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OCI_and_Docker_schema2_manifests_are_read()
    {
        var oci = ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(Manifest), MediaTypes.OciManifest, "oci");
        string dockerJson = Manifest
            .Replace(MediaTypes.OciManifest, MediaTypes.DockerManifest, StringComparison.Ordinal)
            .Replace(MediaTypes.OciConfig, MediaTypes.DockerConfig, StringComparison.Ordinal)
            .Replace(MediaTypes.OciLayerGzip, MediaTypes.DockerLayerGzip, StringComparison.Ordinal);
        var docker = ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(dockerJson), MediaTypes.DockerManifest, "docker");

        Assert.Equal(Hex, oci.Layers[0].Digest.Hex);
        Assert.Equal(MediaTypes.DockerManifest, docker.MediaType);
        Assert.Equal(Containers.Images.Snapshots.LayerCompression.Gzip, MediaTypes.LayerCompressionOf(docker.Layers[0].MediaType));
    }

    [Fact]
    public void An_index_and_a_docker_manifest_list_are_read_with_platforms()
    {
        string json = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifestList}}}","manifests":[{"mediaType":"{{{MediaTypes.DockerManifest}}}","digest":"sha256:{{{Hex}}}","size":5,"platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}""";

        var index = ImageDocuments.ReadIndex(Encoding.UTF8.GetBytes(json), MediaTypes.DockerManifestList, "list");

        Assert.Equal("linux/arm/v7", index.Manifests[0].Platform!.ToString());
        Assert.Throws<InvalidImageException>(() => ImageDocuments.ReadIndex(Encoding.UTF8.GetBytes(Manifest), null, "manifest"));
    }

    [Fact]
    public void A_config_must_have_one_diff_id_per_layer()
    {
        var manifest = ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(Manifest), null, "manifest");
        string config = $$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:{{{Hex}}}","sha256:{{{Hex}}}"]}}""";

        var error = Assert.Throws<InvalidImageException>(() => ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(config), manifest, "config"));

        Assert.Contains("1 layers but the config lists 2 diff ids", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_round_trips_through_the_source_generated_serializer()
    {
        var manifest = ImageDocuments.ReadManifest(Encoding.UTF8.GetBytes(Manifest), null, "manifest");

        byte[] written = ImageDocuments.Serialize(manifest);

        Assert.Equal(Manifest, Encoding.UTF8.GetString(written));
    }
}
