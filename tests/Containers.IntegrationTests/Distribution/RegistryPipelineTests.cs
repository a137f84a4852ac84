using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// How a pull overlaps its work, shown by holding blobs back in a proxy rather than by timing: a layer is unpacked
/// while a later one has not arrived yet, one large layer is unpacked while its own tail has not arrived yet (and a
/// corrupt tail discards what was unpacked), and no more blobs are fetched at once than the client allows.
/// </summary>
public sealed class RegistryPipelineTests : RegistryTestBase
{
    /// <summary>How long a held blob waits for what the test expects before it is let go (the test then fails).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);


    [Fact(Timeout = 180_000)]
    public async Task A_layer_is_unpacked_into_its_snapshot_while_a_later_layer_has_not_arrived_yet()
    {
        string name = await PushBusyboxAsync("pipelined:1");
        await using var proxy = new RegistryProxy(Registry.Host);
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
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);

        var image = await client.PullAsync(store, name.Replace(Registry.Host, proxy.Host, StringComparison.Ordinal), watch, Ct);

        Assert.True(heldUntilApplied, "the first layer was not unpacked while the last one was held back: layers are applied only after every download");
        int applied = reports.FindIndex(r => r.Phase == TransferPhase.Applying && r.Item == first.Digest.ToString() && r.Completed == first.Size);
        int lastDownloaded = reports.FindLastIndex(r => r.Phase == TransferPhase.Downloading && r.Item == last.Digest.ToString());
        Assert.InRange(applied, 0, lastDownloaded - 1);
        Assert.Contains(reports, r => r.Phase == TransferPhase.Applying && r.Item == last.Digest.ToString());
        Assert.Equal(layers.Count, image.Manifest.Layers.Count);
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 240_000)]
    public async Task One_large_layer_is_unpacked_while_its_tail_has_not_arrived_and_published_after_its_digest()
    {
        var held = await PullWithTailHeldAsync("streamed:1", TailFault.None);

        var image = await held.Pull;

        Assert.True(held.UnpackingBeforeTail, "the layer was not unpacked while its tail was held back: it is unpacked only after its download");
        // While the tail was held the layer was being applied into a temporary snapshot, and neither the blob nor the
        // snapshot was published yet.
        Assert.NotEmpty(held.TemporarySnapshotsWhileHeld);
        Assert.False(held.BlobWhileHeld);
        Assert.False(held.SnapshotWhileHeld);
        Assert.Equal(held.Layer.Digest, Assert.Single(image.Manifest.Layers).Digest);
        var chain = await held.Store.GetSnapshotChainAsync(held.Name, Ct);
        Assert.Equal(24L << 20, new FileInfo(Path.Combine(chain[0], "data", "random.bin")).Length);
        Assert.True(File.Exists(Path.Combine(held.Store.Root, "blobs", "sha256", held.Layer.Digest.Hex)));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(held.Store.Root, "snapshots"), "tmp-*"));
        await held.DisposeAsync();
    }

    [Fact(Timeout = 240_000)]
    public async Task A_corrupt_tail_of_a_layer_being_unpacked_leaves_no_snapshot_and_no_blob()
    {
        var held = await PullWithTailHeldAsync("corrupt-tail:1", TailFault.Corrupt);

        var error = await Assert.ThrowsAsync<DigestMismatchException>(() => held.Pull);

        Assert.True(held.UnpackingBeforeTail, "the layer was not being unpacked when its corrupt tail arrived");
        Assert.NotEmpty(held.TemporarySnapshotsWhileHeld);
        Assert.Equal(held.Layer.Digest, error.Expected);
        string root = held.Store.Root;
        Assert.False(File.Exists(Path.Combine(root, "blobs", "sha256", held.Layer.Digest.Hex)));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root, "snapshots"), "tmp-*"));
        Assert.False(Directory.Exists(Path.Combine(root, "snapshots", "sha256")) && Directory.EnumerateFileSystemEntries(Path.Combine(root, "snapshots", "sha256")).Any());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "ingest"), "*.download"));
        Assert.Empty(await held.Store.ListAsync(Ct));
        await held.DisposeAsync();
    }

    [Fact(Timeout = 240_000)]
    public async Task A_layer_being_unpacked_whose_registry_sends_the_whole_blob_again_after_a_drop_is_completed_from_the_new_bytes()
    {
        var held = await PullWithTailHeldAsync("restarted:1", TailFault.DropAndIgnoreRange);

        var image = await held.Pull;

        Assert.True(held.UnpackingBeforeTail, "the layer was not being unpacked when its connection dropped");
        var gets = held.Requests.Where(r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{held.Layer.Digest}", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, gets.Count);
        Assert.NotNull(gets[1].Headers["Range"]);
        var chain = await held.Store.GetSnapshotChainAsync(held.Name, Ct);
        Assert.Equal(24L << 20, new FileInfo(Path.Combine(chain[0], "data", "random.bin")).Length);
        Assert.Equal(held.Layer.Digest, Assert.Single(image.Manifest.Layers).Digest);
        await held.DisposeAsync();
    }

    /// <summary>What happens to the tail of a held layer when it is let go.</summary>
    private enum TailFault
    {
        None,
        Corrupt,

        /// <summary>The connection drops, and the registry answers the client's range request with the whole blob.</summary>
        DropAndIgnoreRange,
    }

    /// <summary>
    /// Starts pulling a one-layer 24 MiB image through a proxy that holds the layer's last MiB back until the client
    /// reports unpacking that layer (or <see cref="Hold"/> passes), looks at the store meanwhile, then lets the tail go
    /// as <paramref name="fault"/> says.
    /// </summary>
    private async Task<HeldPull> PullWithTailHeldAsync(string repositoryAndTag, TailFault fault)
    {
        string directory = Temp.Combine("random-" + repositoryAndTag.Replace(':', '-'));
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, 24, "random:1");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"docker-archive:{archive}", $"docker://{Registry.Host}/{repositoryAndTag}");
        var proxy = new RegistryProxy(Registry.Host) { IgnoreRange = fault == TailFault.DropAndIgnoreRange };
        var client = new RegistryClient(new RegistryClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10) });
        var layer = Assert.Single((await client.ResolveAsync($"{Registry.Host}/{repositoryAndTag}", null, Ct)).Manifest.Layers);
        var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store-" + repositoryAndTag.Replace(':', '-')) }, Ct);
        var held = new HeldPull(proxy, client, store, layer, $"{proxy.Host}/{repositoryAndTag}");
        var unpacking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const long Tail = 1 << 20;
        int holds = 0;
        proxy.OnBody = async (path, offset, chunk) =>
        {
            if (!path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal) || offset + chunk.Length < layer.Size - Tail || Interlocked.Increment(ref holds) != 1)
            {
                return;
            }

            await Task.WhenAny(unpacking.Task, Task.Delay(Hold, Ct));
            held.UnpackingBeforeTail = unpacking.Task.IsCompleted;
            held.TemporarySnapshotsWhileHeld = Directory.GetDirectories(Path.Combine(store.Root, "snapshots"), "tmp-*");
            held.BlobWhileHeld = File.Exists(Path.Combine(store.Root, "blobs", "sha256", layer.Digest.Hex));
            held.SnapshotWhileHeld = Directory.Exists(Path.Combine(store.Root, "snapshots", "sha256"))
                && Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "snapshots", "sha256")).Any();
            switch (fault)
            {
                case TailFault.Corrupt:
                    chunk.Span[chunk.Length - 1] ^= 0x55;
                    break;
                case TailFault.DropAndIgnoreRange:
                    throw new IOException("the connection drops here");
            }
        };
        var watch = new Watch(report =>
        {
            if (report.Phase == TransferPhase.Applying && report.Item == layer.Digest.ToString() && report.Completed > 0 && report.Completed < layer.Size)
            {
                unpacking.TrySetResult();
            }
        });
        held.Pull = client.PullAsync(store, held.Name, watch, Ct);
        return held;
    }

    [Fact(Timeout = 180_000)]
    public async Task With_one_transfer_allowed_no_second_blob_is_requested_while_the_first_is_held()
    {
        string name = await PushBusyboxAsync("bounded:1");
        await using var proxy = new RegistryProxy(Registry.Host);
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
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);

        await client.PullAsync(store, name.Replace(Registry.Host, proxy.Host, StringComparison.Ordinal), null, Ct);

        Assert.Equal(0, othersWhileHeld);
        Assert.Equal(layers.Count, layers.Count(l => proxy.Requests.Any(r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{l.Digest}", StringComparison.Ordinal))));
    }

    private static int BlobGets(RegistryProxy proxy) => proxy.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/blobs/", StringComparison.Ordinal));

    private async Task<string> PushBusyboxAsync(string repositoryAndTag)
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{Registry.Host}/{repositoryAndTag}";
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{name}");
        return name;
    }

    /// <summary>A pull whose layer's tail a proxy holds back, and what the store looked like meanwhile.</summary>
    private sealed class HeldPull(RegistryProxy proxy, RegistryClient client, ImageStore store, Containers.Images.Model.Descriptor layer, string name) : IAsyncDisposable
    {
        public ImageStore Store => store;

        public Containers.Images.Model.Descriptor Layer => layer;

        public string Name => name;

        public Task<Image> Pull { get; set; } = Task.FromResult<Image>(null!);

        public IEnumerable<(string Method, string Path, System.Collections.Specialized.NameValueCollection Headers)> Requests => proxy.Requests;

        public bool UnpackingBeforeTail { get; set; }

        public string[] TemporarySnapshotsWhileHeld { get; set; } = [];

        public bool BlobWhileHeld { get; set; }

        public bool SnapshotWhileHeld { get; set; }

        public async ValueTask DisposeAsync()
        {
            await store.DisposeAsync();
            client.Dispose();
            await proxy.DisposeAsync();
        }
    }

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; would post them later, out of order).</summary>
    private sealed class Watch(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}
