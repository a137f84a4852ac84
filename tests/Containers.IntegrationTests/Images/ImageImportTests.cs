using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

public sealed class ImageImportTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task I_can_import_an_oci_layout_and_get_its_snapshot_chain_top_first()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var images = await store.ImportAsync(layout, "busybox:1.0", progress: null, Ct);

        var image = Assert.Single(images);
        Assert.Equal("docker.io/library/busybox:1.0", Assert.Single(image.References).ToString());
        Assert.Equal(2, image.Manifest.Layers.Count);
        Assert.Equal(["sh"], image.Config.Config?.Cmd);
        var chain = await store.GetSnapshotChainAsync("busybox:1.0", Ct);
        Assert.Equal(2, chain.Count);
        Assert.True(File.Exists(Path.Combine(chain[0], "etc", "hello")), "the top snapshot (first) has layer 2's file");
        Assert.False(File.Exists(Path.Combine(chain[1], "etc", "hello")));
        Assert.Equal(new FileInfo("/bin/busybox").Length, new FileInfo(Path.Combine(chain[1], "bin", "busybox")).Length);
        Assert.Equal("busybox", new FileInfo(Path.Combine(chain[1], "bin", "sh")).LinkTarget);
        Assert.StartsWith(Path.Combine(store.Root, "snapshots"), chain[0], StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task I_can_import_an_oci_archive_made_by_skopeo_with_its_own_name()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToOciArchiveAsync(layout, _temp.Combine("busybox-oci.tar"), "example.com:5000/tools/busybox:2");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = Assert.Single(await store.ImportAsync(archive, tag: null, progress: null, Ct));

        Assert.Equal("example.com:5000/tools/busybox:2", Assert.Single(image.References).ToString());
        var fromLayout = Assert.Single(await store.ImportAsync(layout, "busybox:layout", progress: null, Ct));
        Assert.Equal(fromLayout.Digest, image.Digest);
    }

    [Fact(Timeout = 60_000)]
    public async Task I_can_import_a_docker_archive_and_its_layers_match_the_config_diff_ids()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("busybox-docker.tar"), "busybox:docker");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = Assert.Single(await store.ImportAsync(archive, tag: null, progress: null, Ct));

        Assert.Equal("docker.io/library/busybox:docker", Assert.Single(image.References).ToString());
        Assert.Equal(image.Config.RootFS.DiffIds, image.Manifest.Layers.Select(l => l.Digest));
        var chain = await store.GetSnapshotChainAsync("busybox:docker", Ct);
        Assert.True(File.Exists(Path.Combine(chain[0], "etc", "hello")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Importing_reports_progress_for_every_phase()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("busybox-docker.tar"), "busybox:progress");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var reports = new List<ImageProgress>();

        await store.ImportAsync(archive, tag: null, new Recorder(reports), Ct);

        Assert.Contains(reports, r => r.Phase == ImageProgressPhase.Reading);
        Assert.Contains(reports, r => r.Phase == ImageProgressPhase.Verifying);
        Assert.Contains(reports, r => r.Phase == ImageProgressPhase.Applying && r.Completed > 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_blob_that_does_not_match_its_digest_is_rejected_and_the_store_is_unchanged()
    {
        string layout = ImageFixtures.CopyDirectory(await ImageFixtures.BusyboxLayoutAsync(), _temp.Combine("corrupt"));
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        string largest = new DirectoryInfo(Path.Combine(layout, "blobs", "sha256")).EnumerateFiles().OrderByDescending(f => f.Length).First().FullName;
        await using (var stream = new FileStream(largest, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = stream.Length / 2;
            int b = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(b ^ 0xff));
        }

        var before = Snapshot(store.Root);

        var error = await Assert.ThrowsAsync<DigestMismatchException>(() => store.ImportAsync(layout, "busybox:bad", progress: null, Ct));

        Assert.Equal(Path.GetFileName(largest), error.Expected.Hex);
        Assert.Equal(before, Snapshot(store.Root));
        Assert.Empty(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_manifest_over_the_size_limit_is_refused_before_it_is_parsed()
    {
        string layout = ImageFixtures.CopyDirectory(await ImageFixtures.BusyboxLayoutAsync(), _temp.Combine("huge"));
        byte[] huge = new byte[ImageDocuments.MaxDocumentSize + 1];
        huge.AsSpan().Fill((byte)' ');
        huge[0] = (byte)'{';
        huge[^1] = (byte)'}';
        var digest = Digest.Sha256(huge);
        await File.WriteAllBytesAsync(Path.Combine(layout, "blobs", "sha256", digest.Hex), huge, Ct);
        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"), $$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{digest}}","size":{{huge.Length}}}]}""", Ct);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => store.ImportAsync(layout, "busybox:huge", progress: null, Ct));

        Assert.Contains("more than the", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_layout_without_a_name_is_imported_untagged_and_pruned_unless_tagged()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = Assert.Single(await store.ImportAsync(layout, tag: null, progress: null, Ct));

        Assert.Empty(image.References);
        Assert.Equal(image.Digest, (await store.ResolveAsync(image.Digest.Hex[..12], Ct)).Digest);
        var pruned = await store.PruneAsync(Ct);
        Assert.Equal([image.Digest], pruned.RemovedImages);
        Assert.Equal(4, pruned.RemovedBlobs);
        Assert.Equal(2, pruned.RemovedSnapshots);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "blobs", "sha256")));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_platform_is_chosen_from_an_index_and_a_missing_platform_is_a_clear_error()
    {
        string layout = ImageFixtures.CopyDirectory(await ImageFixtures.BusyboxLayoutAsync(), _temp.Combine("multi"));
        var original = ImageDocuments.ReadIndex(await File.ReadAllBytesAsync(Path.Combine(layout, "index.json"), Ct), null, "test");
        var manifest = original.Manifests[0] with { Annotations = null };
        var missing = Digest.Sha256("not stored"u8);
        var nested = new ImageIndex
        {
            MediaType = MediaTypes.OciIndex,
            Manifests =
            [
                manifest with { Platform = new Platform { OS = "linux", Architecture = "arm64", Variant = "v8" }, Digest = missing },
                manifest with { Platform = Platform.Host },
            ],
        };
        byte[] nestedBytes = ImageDocuments.Serialize(nested);
        var nestedDigest = Digest.Sha256(nestedBytes);
        await File.WriteAllBytesAsync(Path.Combine(layout, "blobs", "sha256", nestedDigest.Hex), nestedBytes, Ct);
        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"), $$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{MediaTypes.OciIndex}}","digest":"{{nestedDigest}}","size":{{nestedBytes.Length}}}]}""", Ct);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var host = Assert.Single(await store.ImportAsync(layout, "multi:host", progress: null, Ct));
        var arm = await Assert.ThrowsAsync<InvalidImageException>(() => store.ImportAsync(layout, new ImportOptions { Platform = Platform.Parse("linux/arm64") }, null, Ct));
        var none = await Assert.ThrowsAsync<InvalidImageException>(() => store.ImportAsync(layout, new ImportOptions { Platform = Platform.Parse("linux/s390x") }, null, Ct));

        Assert.Equal(manifest.Digest, host.Digest);
        Assert.Contains(missing.Hex, arm.Message, StringComparison.Ordinal);
        Assert.Contains("no manifest for linux/s390x", none.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(ImageProgressPhase.Verifying)]
    [InlineData(ImageProgressPhase.Applying)]
    public async Task A_cancelled_import_leaves_the_store_as_it_was(ImageProgressPhase cancelAt)
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("bb.tar"), "busybox:cancel");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var before = Snapshot(store.Root);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ImportAsync(archive, tag: null, new CancelAt(cancelAt, cts), cts.Token));

        Assert.Equal(before, Snapshot(store.Root));
        var image = Assert.Single(await store.ImportAsync(archive, tag: null, progress: null, Ct));
        Assert.Equal(2, (await store.GetSnapshotChainAsync(image.Digest.ToString(), Ct)).Count);
    }

    /// <summary>Every path and file size under a directory, to compare a tree before and after.</summary>
    internal static string Snapshot(string root) =>
        string.Join('\n', Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Where(p => !p.EndsWith(".lock", StringComparison.Ordinal) && !p.EndsWith("/lock", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(p => $"{Path.GetRelativePath(root, p)} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {(File.Exists(p) ? File.ReadAllText(p).GetHashCode(StringComparison.Ordinal) : 0)}"));

    private sealed class CancelAt(ImageProgressPhase phase, CancellationTokenSource cts) : IProgress<ImageProgress>
    {
        public void Report(ImageProgress value)
        {
            if (value.Phase == phase)
            {
                cts.Cancel();
            }
        }
    }

    private sealed class Recorder(List<ImageProgress> reports) : IProgress<ImageProgress>
    {
        public void Report(ImageProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
