using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// How a pull overlaps its work, shown by holding blobs back in a proxy rather than by timing: a layer is unpacked
/// while a later one has not arrived yet, and no more blobs are fetched at once than the client allows.
/// </summary>
public sealed class RegistryPipelineTests : IAsyncLifetime
{
    /// <summary>How long a held blob waits for what the test expects before it is let go (the test then fails).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _temp = new();
    private RegistryServer _registry = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 180_000)]
    public async Task A_layer_is_unpacked_into_its_snapshot_while_a_later_layer_has_not_arrived_yet()
    {
        string name = await PushBusyboxAsync("pipelined:1");
        await using var proxy = new RegistryProxy(_registry.Host);
        using var client = new RegistryClient();
        var layers = (await client.ResolveAsync(name, null, Ct)).Manifest.Layers;
        Assert.Equal(2, layers.Count);
        var (first, last) = (layers[0], layers[1]);
        var firstApplied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool heldUntilApplied = false;
        proxy.OnBody = async (path, offset, _) =>
        {
            if (offset == 0 && path.EndsWith($"/blobs/{last.Digest}", StringComparison.Ordinal))
            {
                // Not one byte of the last layer reaches the client until the first layer is in its snapshot.
                await Task.WhenAny(firstApplied.Task, Task.Delay(Hold, Ct));
                heldUntilApplied = firstApplied.Task.IsCompleted;
            }
        };
        var reports = new List<TransferProgress>();
        var progress = new LockedProgress<TransferProgress>(reports);
        var watch = new Watch(report =>
        {
            progress.Report(report);
            if (report.Phase == TransferPhase.Applying && report.Item == first.Digest.ToString() && report.Completed == first.Size)
            {
                firstApplied.TrySetResult();
            }
        });
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = await client.PullAsync(store, name.Replace(_registry.Host, proxy.Host, StringComparison.Ordinal), watch, Ct);

        Assert.True(heldUntilApplied, "the first layer was not unpacked while the last one was held back: layers are applied only after every download");
        int applied = reports.FindIndex(r => r.Phase == TransferPhase.Applying && r.Item == first.Digest.ToString() && r.Completed == first.Size);
        int lastDownloaded = reports.FindLastIndex(r => r.Phase == TransferPhase.Downloading && r.Item == last.Digest.ToString());
        Assert.InRange(applied, 0, lastDownloaded - 1);
        Assert.Contains(reports, r => r.Phase == TransferPhase.Applying && r.Item == last.Digest.ToString());
        Assert.Equal(layers.Count, image.Manifest.Layers.Count);
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 180_000)]
    public async Task With_one_transfer_allowed_no_second_blob_is_requested_while_the_first_is_held()
    {
        string name = await PushBusyboxAsync("bounded:1");
        await using var proxy = new RegistryProxy(_registry.Host);
        using var client = new RegistryClient(new RegistryClientOptions { MaxConcurrentTransfers = 1 });
        var layers = (await client.ResolveAsync(name, null, Ct)).Manifest.Layers;
        int held = 0;
        int othersWhileHeld = -1;
        proxy.OnBody = async (path, offset, _) =>
        {
            if (offset == 0 && layers.Any(l => path.EndsWith($"/blobs/{l.Digest}", StringComparison.Ordinal)) && Interlocked.Increment(ref held) == 1)
            {
                // Hold the first layer long enough for an unbounded client to ask for the other one.
                int before = BlobGets(proxy);
                await Task.Delay(TimeSpan.FromSeconds(3), Ct);
                othersWhileHeld = BlobGets(proxy) - before;
            }
        };
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        await client.PullAsync(store, name.Replace(_registry.Host, proxy.Host, StringComparison.Ordinal), null, Ct);

        Assert.Equal(0, othersWhileHeld);
        Assert.Equal(layers.Count, layers.Count(l => proxy.Requests.Any(r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{l.Digest}", StringComparison.Ordinal))));
    }

    private static int BlobGets(RegistryProxy proxy) => proxy.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal));

    private async Task<string> PushBusyboxAsync(string repositoryAndTag)
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{_registry.Host}/{repositoryAndTag}";
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{name}");
        return name;
    }

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; would post them later, out of order).</summary>
    private sealed class Watch(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}
