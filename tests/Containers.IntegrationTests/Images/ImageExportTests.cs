using System.Text.Json;
using Containers.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

public sealed class ImageExportTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task The_store_itself_is_an_oci_layout_that_skopeo_and_umoci_read()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var image = Assert.Single(await store.ImportAsync(layout, "busybox:skopeo", progress: null, Ct));

        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", $"oci:{store.Root}:docker.io/library/busybox:skopeo");
        string tags = await ImageFixtures.RunAsync(Requires.Tool("umoci"), "ls", "--layout", store.Root);

        Assert.Equal(image.Digest.ToString(), JsonDocument.Parse(inspect).RootElement.GetProperty("Digest").GetString());
        Assert.Contains("docker.io/library/busybox:skopeo", tags, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(ImageArchiveFormat.OciLayout)]
    [InlineData(ImageArchiveFormat.OciArchive)]
    [InlineData(ImageArchiveFormat.DockerArchive)]
    public async Task An_exported_image_reads_back_with_skopeo_and_imports_again(ImageArchiveFormat format)
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var image = Assert.Single(await store.ImportAsync(layout, "busybox:export", progress: null, Ct));
        string target = _temp.Combine("exported");

        await store.ExportAsync("busybox:export", target, format, Ct);

        string transport = format switch
        {
            ImageArchiveFormat.OciLayout => $"oci:{target}:docker.io/library/busybox:export",
            ImageArchiveFormat.OciArchive => $"oci-archive:{target}:docker.io/library/busybox:export",
            _ => $"docker-archive:{target}:busybox:export",
        };
        var inspected = JsonDocument.Parse(await ImageFixtures.RunAsync(Requires.Tool("skopeo"), "inspect", "--raw", transport)).RootElement;
        Assert.Equal(image.Manifest.Config.Digest.ToString(), inspected.GetProperty("config").GetProperty("digest").GetString());
        if (format == ImageArchiveFormat.OciLayout)
        {
            Assert.Contains("docker.io/library/busybox:export", await ImageFixtures.RunAsync(Requires.Tool("umoci"), "ls", "--layout", target), StringComparison.Ordinal);
        }

        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("other") }, Ct);
        var again = Assert.Single(await other.ImportAsync(target, tag: null, progress: null, Ct));
        Assert.Equal("docker.io/library/busybox:export", Assert.Single(again.References).ToString());
        Assert.Equal(image.Config.RootFS.DiffIds, again.Config.RootFS.DiffIds);
        Assert.Equal(image.Manifest.Config.Digest, again.Manifest.Config.Digest);
        if (format != ImageArchiveFormat.DockerArchive)
        {
            Assert.Equal(image.Digest, again.Digest);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_oci_export_unpacks_with_umoci_to_the_same_files()
    {
        string umoci = Requires.Tool("umoci");
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        await store.ImportAsync(layout, "busybox:unpack", progress: null, Ct);
        string target = _temp.Combine("exported");
        await store.ExportAsync("busybox:unpack", target, ImageArchiveFormat.OciLayout, Ct);

        string bundle = _temp.Combine("bundle");
        await ImageFixtures.RunAsync(umoci, ["unpack", .. Requires.IsRoot ? Array.Empty<string>() : ["--rootless"], "--image", $"{target}:docker.io/library/busybox:unpack", bundle]);

        Assert.Equal("hello\n", await File.ReadAllTextAsync(Path.Combine(bundle, "rootfs", "etc", "hello"), Ct));
        Assert.Equal(await File.ReadAllBytesAsync("/bin/busybox", Ct), await File.ReadAllBytesAsync(Path.Combine(bundle, "rootfs", "bin", "busybox"), Ct));
        Assert.False(File.Exists(Path.Combine(bundle, "rootfs", "bin", "sh")), "layer 2's whiteout removed /bin/sh");
    }

    [Fact(Timeout = 60_000)]
    public async Task Exporting_over_an_existing_file_is_refused_and_leaves_it_alone()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        await store.ImportAsync(layout, "busybox:exists", progress: null, Ct);
        string target = _temp.Combine("exists.tar");
        await File.WriteAllTextAsync(target, "keep", Ct);

        await Assert.ThrowsAsync<ContainersException>(() => store.ExportAsync("busybox:exists", target, ImageArchiveFormat.OciArchive, Ct));

        Assert.Equal("keep", await File.ReadAllTextAsync(target, Ct));
        Assert.Single(Directory.EnumerateFileSystemEntries(_temp.Path).Where(p => p.EndsWith(".tmp", StringComparison.Ordinal)).Append(target));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_cancelled_export_leaves_nothing_behind()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        await store.ImportAsync(layout, "busybox:cancel", progress: null, Ct);
        string target = _temp.Combine("cancelled.tar");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var cancelOnFirstWrite = new CancelOnReport(cts);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ExportAsync("busybox:cancel", target, ImageArchiveFormat.DockerArchive, cancelOnFirstWrite, cts.Token));

        Assert.Equal(["store"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "ingest")), p => !p.EndsWith(".lock", StringComparison.Ordinal));
    }

    private sealed class CancelOnReport(CancellationTokenSource cts) : IProgress<ImageProgress>
    {
        public void Report(ImageProgress value) => cts.Cancel();
    }
}
