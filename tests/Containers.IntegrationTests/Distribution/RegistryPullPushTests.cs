using System.Text.Json;
using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>Pull and push against a real registry without auth, checked by skopeo in both directions.</summary>
public sealed class RegistryPullPushTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private RegistryServer _registry = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task An_image_I_push_is_read_back_by_skopeo_with_the_same_digest()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{_registry.Host}/tools/busybox:1.0";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(layout, name, progress: null, Ct));
        using var client = new RegistryClient();

        var reports = new List<TransferProgress>();
        var pushed = await client.PushAsync(store, name, destination: null, new LockedProgress<TransferProgress>(reports), Ct);

        Assert.Equal(imported.Digest, pushed);
        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}");
        using (var json = JsonDocument.Parse(inspect))
        {
            Assert.Equal(pushed.ToString(), json.RootElement.GetProperty("Digest").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("Layers").GetArrayLength());
        }

        string copy = _temp.Combine("copy");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{name}", $"oci:{copy}:x");
        Assert.Contains(pushed.Hex, await File.ReadAllTextAsync(Path.Combine(copy, "index.json"), Ct), StringComparison.Ordinal);
        var total = imported.Manifest.Layers.Sum(l => l.Size) + imported.Manifest.Config.Size;
        Assert.Contains(reports, r => r.Phase == TransferPhase.Uploading && r.TransferredBytes == total && r.TotalBytes == total);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_image_skopeo_pushes_is_pulled_verified_and_unpacked_into_snapshots()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{_registry.Host}/library/busybox:stable";
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{name}");
        string digest = JsonDocument.Parse(await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}")).RootElement.GetProperty("Digest").GetString()!;
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        using var client = new RegistryClient();

        var image = await client.PullAsync(store, name, progress: null, Ct);

        Assert.Equal(digest, image.Digest.ToString());
        Assert.Equal(name, Assert.Single(image.References).ToString());
        var chain = await store.GetSnapshotChainAsync(name, Ct);
        Assert.Equal(2, chain.Count);
        Assert.True(File.Exists(Path.Combine(chain[0], "etc", "hello")));
        Assert.Equal(new FileInfo("/bin/busybox").Length, new FileInfo(Path.Combine(chain[1], "bin", "busybox")).Length);
        foreach (var layer in image.Manifest.Layers)
        {
            Assert.True(File.Exists(Path.Combine(store.Root, "blobs", "sha256", layer.Digest.Hex)), $"layer blob {layer.Digest} is stored");
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "ingest"), "*.download"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_versions_pushed_under_two_tags_are_pulled_back_exactly_by_tag_and_by_digest()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var source = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("source") }, Ct);
        string v1 = $"{_registry.Host}/myapp:1.0";
        string v2 = $"{_registry.Host}/myapp:1.1";
        var first = Assert.Single(await source.ImportAsync(layout, v1, progress: null, Ct));
        string modified = ImageFixtures.CopyDirectory(layout, _temp.Combine("modified"));
        await ImageFixtures.RunAsync("umoci", "config", "--image", $"{modified}:{ImageFixtures.Tag}", "--config.env", "VERSION=1.1");
        var second = Assert.Single(await source.ImportAsync(modified, v2, progress: null, Ct));
        Assert.NotEqual(first.Digest, second.Digest);
        using var client = new RegistryClient();
        await client.PushAsync(source, v1, null, null, Ct);
        await client.PushAsync(source, v2, null, null, Ct);

        await using var production = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("production") }, Ct);
        var pulled1 = await client.PullAsync(production, v1, null, Ct);
        var pulled2 = await client.PullAsync(production, v2, null, Ct);
        var pinned = await client.PullAsync(production, $"{_registry.Host}/myapp@{first.Digest}", null, Ct);

        Assert.Equal(first.Digest, pulled1.Digest);
        Assert.Equal(second.Digest, pulled2.Digest);
        Assert.Equal(first.Digest, pinned.Digest);
        Assert.Contains("VERSION=1.1", pulled2.Config.Config?.Env ?? []);
        Assert.Equal(first.Digest, (await client.ResolveAsync(v1, null, Ct)).Descriptor.Digest);
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_pulls_of_one_image_into_one_store_download_each_blob_once()
    {
        string directory = _temp.Combine("random");
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, 16, "random:1");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"docker-archive:{archive}", $"docker://{_registry.Host}/shared:1");
        await using var proxy = new RegistryProxy(_registry.Host);
        string name = $"{proxy.Host}/shared:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        await using var sameStore = await ImageStore.OpenAsync(new ImageStoreOptions { Root = store.Root }, Ct);
        using var first = new RegistryClient();
        using var second = new RegistryClient();

        var images = await Task.WhenAll(first.PullAsync(store, name, null, Ct), second.PullAsync(sameStore, name, null, Ct));

        Assert.Equal(images[0].Digest, images[1].Digest);
        var layer = Assert.Single(images[0].Manifest.Layers);
        Assert.Single(proxy.Requests, r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal));
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_tag_is_a_not_found_error_and_nothing_is_tagged()
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        using var client = new RegistryClient();

        var error = await Assert.ThrowsAsync<RegistryNotFoundException>(() => client.PullAsync(store, $"{_registry.Host}/nothing:here", null, Ct));

        Assert.Contains("nothing", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync(Ct));
    }
}

/// <summary>Collects reports from many threads.</summary>
internal sealed class LockedProgress<T>(List<T> reports) : IProgress<T>
{
    public void Report(T value)
    {
        lock (reports)
        {
            reports.Add(value);
        }
    }
}
