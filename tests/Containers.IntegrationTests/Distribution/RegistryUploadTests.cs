using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>How blobs travel on a push: skipped, mounted from another repository, in one PUT or in PATCH chunks.</summary>
public sealed class RegistryUploadTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private RegistryServer _registry = null!;
    private RegistryProxy _proxy = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        _proxy = new RegistryProxy(_registry.Host);
    }

    public async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _registry.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_blob_larger_than_the_chunk_size_is_uploaded_in_chunks_that_skopeo_reads_back()
    {
        string directory = _temp.Combine("random");
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, 3, "random:1");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        string name = $"{_proxy.Host}/chunked:1";
        var image = Assert.Single(await store.ImportAsync(archive, name, null, Ct));
        using var client = new RegistryClient(new RegistryClientOptions { UploadChunkSize = 1 << 20 });

        var digest = await client.PushAsync(store, name, null, null, Ct);

        var patches = _proxy.Requests.Where(r => r.Method == "PATCH").ToList();
        long layerSize = Assert.Single(image.Manifest.Layers).Size;
        Assert.Equal((int)((layerSize + (1 << 20) - 1) >> 20), patches.Count);
        Assert.Equal("0-1048575", patches[0].Headers["Content-Range"]);
        Assert.Contains(digest.ToString(), await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{_registry.Host}/chunked:1"), StringComparison.Ordinal);
        // skopeo verifies every blob it copies against its digest.
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{_registry.Host}/chunked:1", $"oci:{_temp.Combine("copy")}:x");
    }

    [Fact(Timeout = 120_000)]
    public async Task Pushing_again_skips_every_blob_and_pushing_to_another_repository_mounts_them()
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        string first = $"{_proxy.Host}/team/app:1";
        Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), first, null, Ct));
        using var client = new RegistryClient();
        await client.PushAsync(store, first, null, null, Ct);
        int uploadsBefore = Uploads();

        var again = new List<TransferProgress>();
        await client.PushAsync(store, first, null, new LockedProgress<TransferProgress>(again), Ct);
        var mounted = new List<TransferProgress>();
        await client.PushAsync(store, first, $"{_proxy.Host}/other/app:1", new LockedProgress<TransferProgress>(mounted), Ct);

        Assert.Equal(3, uploadsBefore);
        Assert.Equal(uploadsBefore, Uploads());
        Assert.All(again, r => Assert.Equal(TransferPhase.Exists, r.Phase));
        Assert.Equal(3, again.Count);
        Assert.All(mounted, r => Assert.Equal(TransferPhase.Exists, r.Phase));
        Assert.Equal(3, _proxy.Requests.Count(r => r.Method == "POST" && r.Path.Contains("mount=sha256", StringComparison.Ordinal) && r.Path.Contains("from=team%2Fapp", StringComparison.Ordinal)));
        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{_registry.Host}/other/app:1");
        Assert.Contains("\"Layers\"", inspect, StringComparison.Ordinal);
    }

    private int Uploads() => _proxy.Requests.Count(r => r.Method == "PUT" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal));
}
