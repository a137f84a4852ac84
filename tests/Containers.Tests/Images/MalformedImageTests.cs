using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using Containers.Images;
using Containers.Images.Layers;
using Containers.Tests.Images.Layers;
using Containers.Tests.Images.Support;

namespace Containers.Tests.Images;

/// <summary>
/// Malformed and hostile image sources, each built here: every one is refused with one typed error before the store
/// changes, and the store keeps working for the images it already had.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class MalformedImageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TestLayer[] TwoLayers => [new(TestImage.LayerTar("one"), Gzip: true), new(TestImage.LayerTar("two"), Gzip: false)];

    public static TheoryData<string> NullFields => new(NullCases.Keys.Order(StringComparer.Ordinal));

    private static Dictionary<string, Func<string, string>> NullCases { get; } = new()
    {
        ["config architecture null"] = dir => Layout(dir, editConfig: c => c["architecture"] = null),
        ["config os null"] = dir => Layout(dir, editConfig: c => c["os"] = null),
        ["config rootfs null"] = dir => Layout(dir, editConfig: c => c["rootfs"] = null),
        ["config diff_ids null"] = dir => Layout(dir, editConfig: c => c["rootfs"]!["diff_ids"] = null),
        ["config diff_ids [null]"] = dir => Layout(dir, editConfig: c => c["rootfs"]!["diff_ids"]!.AsArray()[0] = null),
        ["config Env [null]"] = dir => Layout(dir, editConfig: c => c["config"]!["Env"] = new JsonArray((JsonNode?)null)),
        ["config label value null"] = dir => Layout(dir, editConfig: c => c["config"]!["Labels"]!["a"] = null),
        ["manifest config null"] = dir => Layout(dir, editManifest: m => m["config"] = null),
        ["manifest layers null"] = dir => Layout(dir, editManifest: m => m["layers"] = null),
        ["manifest layers [null]"] = dir => Layout(dir, editManifest: m => m["layers"]!.AsArray()[0] = null),
        ["manifest layer digest null"] = dir => Layout(dir, editManifest: m => m["layers"]![0]!["digest"] = null),
        ["index manifests null"] = dir => Layout(dir, editIndex: i => i["manifests"] = null),
        ["index manifests [null]"] = dir => Layout(dir, editIndex: i => i["manifests"]!.AsArray()[0] = null),
        ["index platform architecture null"] = dir => Layout(dir, editIndex: i => i["manifests"]![0]!["platform"] = new JsonObject { ["architecture"] = null, ["os"] = "linux" }),
        ["index annotation value null"] = dir => Layout(dir, editIndex: i => i["manifests"]![0]!["annotations"]!["org.opencontainers.image.ref.name"] = null),
        ["docker Layers [null]"] = dir => Docker(dir, m => m[0]!["Layers"]!.AsArray()[0] = null),
        ["docker Layers null"] = dir => Docker(dir, m => m[0]!["Layers"] = null),
        ["docker Config null"] = dir => Docker(dir, m => m[0]!["Config"] = null),
        ["docker entry null"] = dir => Docker(dir, m => m[0] = null),
        ["docker RepoTags [null]"] = dir => Docker(dir, m => m[0]!["RepoTags"] = new JsonArray((JsonNode?)null)),
    };

    [Theory]
    [MemberData(nameof(NullFields))]
    public async Task A_null_where_a_value_is_required_is_refused_and_poisons_nothing(string name)
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var good = await ImportGoodAsync(fixture);
        string before = fixture.State();

        string source = NullCases[name](fixture.PathOf("source"));
        await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));

        Assert.Equal(before, fixture.State());
        var images = await fixture.Store.ListAsync(Ct);
        Assert.Equal(good.Digest, Assert.Single(images).Digest);
        await fixture.Store.PruneAsync(Ct);
        Assert.Single(await fixture.Store.ListAsync(Ct));
    }

    [Fact]
    public async Task A_json_string_that_is_not_utf8_is_refused_as_invalid_json()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        await ImportGoodAsync(fixture);
        string before = fixture.State();
        string source = Layout(fixture.PathOf("utf8"));
        string index = Path.Combine(source, "index.json");
        byte[] content = File.ReadAllBytes(index);
        int quote = Array.IndexOf(content, (byte)'a', Encoding.ASCII.GetString(content).IndexOf("\"application/", StringComparison.Ordinal));
        content[quote] = 0xAF;
        File.WriteAllBytes(index, content);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, fixture.State());
    }

    [Fact]
    public async Task An_index_entry_the_store_cannot_read_hides_no_other_image_and_prune_removes_it()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var good = await ImportGoodAsync(fixture);
        string indexPath = Path.Combine(fixture.Root, "index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        var entry = index["manifests"]![0]!.DeepClone();
        entry["platform"] = new JsonObject { ["os"] = "linux" };
        entry["annotations"]!["org.opencontainers.image.ref.name"] = "test.example/broken:1";
        index["manifests"]!.AsArray().Add(entry);
        index["manifests"]!.AsArray().Add(null);
        File.WriteAllText(indexPath, index.ToJsonString());

        Assert.Equal(good.Digest, Assert.Single(await fixture.Store.ListAsync(Ct)).Digest);
        Assert.Equal(good.Digest, (await fixture.Store.ResolveAsync("test.example/image:1", Ct)).Digest);

        await fixture.Store.TagAsync("test.example/image:1", "test.example/image:2", Ct);
        Assert.Equal(4, JsonNode.Parse(File.ReadAllText(indexPath))!["manifests"]!.AsArray().Count);

        var pruned = await fixture.Store.PruneAsync(Ct);
        Assert.Equal(2, pruned.RemovedDamagedEntries);
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(indexPath))!["manifests"]!.AsArray().Count);
        Assert.Equal(2, Assert.Single(await fixture.Store.ListAsync(Ct)).References.Count);
    }

    [Fact]
    public async Task An_image_whose_manifest_blob_is_gone_is_skipped_by_list_and_dropped_by_prune()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var good = await ImportGoodAsync(fixture);
        string other = Layout(fixture.PathOf("other"), name: "test.example/other:1", layers: [new(TestImage.LayerTar("three"), Gzip: true)]);
        var second = Assert.Single(await fixture.Store.ImportAsync(other, new ImportOptions(), null, Ct));
        File.Delete(Path.Combine(fixture.Root, "blobs", "sha256", second.Digest.Hex));

        Assert.Equal(good.Digest, Assert.Single(await fixture.Store.ListAsync(Ct)).Digest);
        var pruned = await fixture.Store.PruneAsync(Ct);
        Assert.Equal(1, pruned.RemovedDamagedEntries);
        Assert.Contains(second.Digest, pruned.RemovedImages);
    }

    public static TheoryData<string> ImpostorLayers => new(Impostors.Keys.Order(StringComparer.Ordinal));

    private static Dictionary<string, Func<byte[], byte[]>> Impostors { get; } = new()
    {
        ["bit-flipped gzip"] = tar =>
        {
            // The first flip from the middle on that breaks the stream or changes what it holds: some flips (a
            // back-reference's distance inside a run of zeros) decompress to the very same tar, which is then no
            // impostor but a valid encoding of the layer. The tar's PAX times differ per run, so the position does too.
            byte[] gzip = TestImage.GzipBytes(tar);
            for (var i = gzip.Length / 2; ; i++)
            {
                gzip[i] ^= 0x10;
                if (!DecompressesTo(gzip, tar))
                {
                    return gzip;
                }

                gzip[i] ^= 0x10;
            }
        },
        ["decompression bomb"] = _ => TestImage.GzipBytes(new byte[64 << 20]),
        ["a different tar"] = _ => TestImage.GzipBytes(TestImage.LayerTar("other")),
        ["a text file"] = _ => TestImage.GzipBytes(Encoding.ASCII.GetBytes("this is not the layer you want\n")),
        ["trailing garbage after the gzip stream"] = tar => [.. TestImage.GzipBytes(tar), .. TestImage.GzipBytes(Encoding.ASCII.GetBytes("extra"))],
    };

    private static bool DecompressesTo(byte[] gzip, byte[] expected)
    {
        try
        {
            using var stream = new System.IO.Compression.GZipStream(new MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress);
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray().AsSpan().SequenceEqual(expected);
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    [Theory]
    [MemberData(nameof(ImpostorLayers))]
    public async Task A_new_blob_for_a_layer_whose_snapshot_exists_is_proven_against_its_diff_id(string name)
    {
        await using var fixture = await StoreFixture.CreateAsync();
        await ImportGoodAsync(fixture);
        string before = fixture.State();
        var layers = TwoLayers;
        layers[0] = layers[0] with { Blob = Impostors[name](layers[0].Tar) };

        string source = Layout(fixture.PathOf("impostor"), layers: layers, name: "test.example/impostor:1");
        var error = await Assert.ThrowsAnyAsync<ContainersException>(() => fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));
        Assert.True(error is InvalidLayerException or InvalidImageException, error.ToString());
        Assert.Equal(before, fixture.State());
    }

    [Fact]
    public async Task Gzip_labelled_as_a_plain_tar_is_refused_even_when_the_snapshot_exists()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        await ImportGoodAsync(fixture);
        string before = fixture.State();
        var layers = TwoLayers;
        layers[1] = layers[1] with { Blob = TestImage.GzipBytes(layers[1].Tar) };

        string source = Layout(fixture.PathOf("labelled"), layers: layers, name: "test.example/labelled:1");
        await Assert.ThrowsAsync<InvalidLayerException>(() => fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));
        Assert.Equal(before, fixture.State());
    }

    [Fact]
    public async Task An_oci_archive_with_a_gnu_sparse_member_is_refused()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] archive = new RawTar()
            .Entry("oci-layout", '0', Encoding.ASCII.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"))
            .Entry("blobs/sha256/sparse", 'S', new byte[512])
            .End();
        await AssertRefusedAsync(fixture, archive);
    }

    [Fact]
    public async Task An_oci_archive_with_a_huge_gnu_long_name_is_refused()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] archive = new RawTar()
            .Entry("././@LongLink", 'L', new byte[512], sizeOverride: 0x7FFF_FFFF_FFL)
            .End();
        await AssertRefusedAsync(fixture, archive);
    }

    [Fact]
    public async Task A_corrupt_gzip_compressed_oci_archive_is_refused()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] gzip = TestImage.GzipBytes(TestImage.Archive(TestImage.Layout(TwoLayers)));
        for (int i = gzip.Length / 3; i < gzip.Length / 3 + 16; i++)
        {
            gzip[i] ^= 0x5A;
        }

        await AssertRefusedAsync(fixture, gzip);
    }

    [Fact]
    public async Task A_truncated_gzip_compressed_oci_archive_is_refused()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] gzip = TestImage.GzipBytes(TestImage.Archive(TestImage.Layout(TwoLayers)));
        await AssertRefusedAsync(fixture, gzip[..(gzip.Length * 2 / 3)]);
    }

    [Theory]
    [InlineData("index.json")]
    [InlineData("blob")]
    [InlineData("source")]
    public async Task A_fifo_in_place_of_a_file_is_refused_without_blocking(string which)
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var files = TestImage.Layout(TwoLayers);
        string dir = TestImage.WriteDirectory(files, fixture.PathOf("fifo-layout"));
        string victim = which switch
        {
            "index.json" => Path.Combine(dir, "index.json"),
            "blob" => Path.Combine(dir, files[^1].Key),
            _ => fixture.PathOf("source.tar"),
        };
        File.Delete(victim);
        Assert.Equal(0, MakeFifo(victim));
        string source = which == "source" ? victim : dir;

        var import = fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct);
        var error = await Assert.ThrowsAsync<InvalidImageException>(() => import.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Contains("FIFO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_that_is_a_symlink_is_refused()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var files = TestImage.Layout(TwoLayers);
        string dir = TestImage.WriteDirectory(files, fixture.PathOf("link-layout"));
        string blob = Path.Combine(dir, files[^1].Key);
        File.Move(blob, fixture.PathOf("elsewhere"));
        File.CreateSymbolicLink(blob, fixture.PathOf("elsewhere"));

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(dir, new ImportOptions(), null, Ct));
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_listing_one_layer_two_hundred_times_applies_it_once()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        var layer = new TestLayer(TestImage.LayerTar("repeated"), Gzip: true);
        var layers = Enumerable.Repeat(layer, 200).Append(new TestLayer(TestImage.LayerTar("top"), Gzip: false)).ToList();
        string source = Layout(fixture.PathOf("repeated"), layers: layers);

        var image = Assert.Single(await fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));

        Assert.Equal(201, image.Manifest.Layers.Count);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(fixture.Root, "snapshots", "sha256")).Length);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(fixture.Root, "blobs", "sha256")).Length);
        var chain = await fixture.Store.GetSnapshotChainAsync(image.Digest.ToString(), Ct);
        Assert.Equal(2, chain.Count);
        Assert.True(File.Exists(Path.Combine(chain[0], "data", "top.txt")));
        Assert.True(File.Exists(Path.Combine(chain[1], "data", "repeated.txt")));
    }

    [Fact]
    public async Task An_image_with_more_layers_than_the_cap_is_refused_before_anything_is_stored()
    {
        await using var fixture = await StoreFixture.CreateAsync(maxLayers: 3);
        string before = fixture.State();
        var layers = Enumerable.Range(0, 4).Select(i => new TestLayer(TestImage.LayerTar("l" + i), Gzip: false)).ToList();

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(Layout(fixture.PathOf("oci"), layers: layers), new ImportOptions(), null, Ct));
        Assert.Contains("MaxLayers", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(Docker(fixture.PathOf("docker"), layers: layers), new ImportOptions(), null, Ct));
        Assert.Equal(before, fixture.State());
        Assert.Equal(500, new ImageStoreOptions().MaxLayers);
    }

    [Fact]
    public async Task Control_characters_from_an_archive_entry_name_are_escaped_in_the_error()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] archive = new RawTar()
            .Entry("oci-layout", '0', Encoding.ASCII.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"))
            .Entry("evil\u001b]0;owned\u0007\u007f\u0001name", '6')
            .End();
        string path = fixture.PathOf("control.tar");
        File.WriteAllBytes(path, archive);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(path, new ImportOptions(), null, Ct));
        Assert.DoesNotContain(error.Message, c => char.IsControl(c));
        Assert.Contains("evil\\x1b]0;owned\\x07\\x7f\\x01name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_characters_in_a_layer_entry_name_are_escaped_in_the_error()
    {
        await using var fixture = await StoreFixture.CreateAsync();
        byte[] tar = new RawTar().Entry("../\u001b[2Jescape", '0', Encoding.ASCII.GetBytes("x")).End();
        string source = Layout(fixture.PathOf("layer"), layers: [new TestLayer(tar, Gzip: false)]);

        var error = await Assert.ThrowsAsync<InvalidLayerException>(() => fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));
        Assert.DoesNotContain(error.Message, c => char.IsControl(c));
        Assert.Contains("\\x1b[2J", error.Message, StringComparison.Ordinal);
    }

    private static async Task<Image> ImportGoodAsync(StoreFixture fixture)
    {
        string source = Layout(fixture.PathOf("good"));
        return Assert.Single(await fixture.Store.ImportAsync(source, new ImportOptions(), null, Ct));
    }

    private static async Task AssertRefusedAsync(StoreFixture fixture, byte[] archive)
    {
        await ImportGoodAsync(fixture);
        string before = fixture.State();
        string path = fixture.PathOf("archive-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, archive);
        await Assert.ThrowsAsync<InvalidImageException>(() => fixture.Store.ImportAsync(path, new ImportOptions(), null, Ct));
        Assert.Equal(before, fixture.State());
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(fixture.Root, "ingest")), e => !e.EndsWith(".lock", StringComparison.Ordinal));
    }

    private static string Layout(string directory, Action<JsonObject>? editConfig = null, Action<JsonObject>? editManifest = null, Action<JsonObject>? editIndex = null, IReadOnlyList<TestLayer>? layers = null, string name = "test.example/image:1") =>
        TestImage.WriteDirectory(TestImage.Layout(layers ?? TwoLayers, name, editConfig, editManifest, editIndex), directory);

    private static string Docker(string directory, Action<JsonArray>? editManifest = null, IReadOnlyList<TestLayer>? layers = null)
    {
        string path = directory + ".tar";
        File.WriteAllBytes(path, TestImage.Archive(TestImage.DockerArchive(layers ?? TwoLayers, editManifest: editManifest)));
        return path;
    }

    private static int MakeFifo(string path) => Mkfifo(path, 0x180);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);
}
