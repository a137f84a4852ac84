using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

public sealed class ImageTagTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task I_can_tag_resolve_and_remove_names_and_the_last_name_takes_the_content_with_it()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var image = Assert.Single(await store.ImportAsync(layout, "busybox", progress: null, Ct));

        var tagged = await store.TagAsync("busybox", "localhost:5000/tools/bb:v1", Ct);

        Assert.Equal("localhost:5000/tools/bb:v1", tagged.ToString());
        Assert.Equal(image.Digest, (await store.ResolveAsync("localhost:5000/tools/bb:v1", Ct)).Digest);
        Assert.Equal(image.Digest, (await store.ResolveAsync("docker.io/library/busybox:latest", Ct)).Digest);
        Assert.Equal(image.Digest, (await store.ResolveAsync(image.Digest.ToString(), Ct)).Digest);
        Assert.Equal(image.Digest, (await store.ResolveAsync($"busybox@{image.Digest}", Ct)).Digest);
        Assert.Equal(2, Assert.Single(await store.ListAsync(Ct)).References.Count);

        var untag = await store.RemoveAsync("busybox", Ct);
        Assert.Empty(untag.RemovedImages);
        Assert.Equal(0, untag.RemovedBlobs);
        await Assert.ThrowsAsync<ImageNotFoundException>(() => store.ResolveAsync("busybox", Ct));

        var removed = await store.RemoveAsync("localhost:5000/tools/bb:v1", Ct);
        Assert.Equal([image.Digest], removed.RemovedImages);
        Assert.Equal(4, removed.RemovedBlobs);
        Assert.Equal(2, removed.RemovedSnapshots);
        Assert.Empty(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task Content_of_images_in_use_survives_removal_and_prune()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        var inUse = new List<Digest>();
        await using var store = await ImageStore.OpenAsync(
            new ImageStoreOptions { Root = _temp.Combine("store"), InUseImages = _ => ValueTask.FromResult<IEnumerable<Digest>>(inUse) },
            Ct);
        var image = Assert.Single(await store.ImportAsync(layout, "busybox:used", progress: null, Ct));
        var chain = await store.GetSnapshotChainAsync("busybox:used", Ct);
        inUse.Add(image.Digest);

        var removed = await store.RemoveAsync("busybox:used", Ct);
        var pruned = await store.PruneAsync(Ct);

        Assert.Equal(0, removed.RemovedBlobs + pruned.RemovedBlobs);
        Assert.All(chain, directory => Assert.True(Directory.Exists(directory)));
        inUse.Clear();
        var collected = await store.PruneAsync(Ct);
        Assert.Equal(4, collected.RemovedBlobs);
        Assert.All(chain, directory => Assert.False(Directory.Exists(directory)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_snapshot_removed_behind_the_stores_back_is_applied_again_on_demand()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        await store.ImportAsync(layout, "busybox:heal", progress: null, Ct);
        var chain = await store.GetSnapshotChainAsync("busybox:heal", Ct);
        Directory.Delete(chain[0], recursive: true);

        var again = await store.GetSnapshotChainAsync("busybox:heal", Ct);

        Assert.Equal(chain, again);
        Assert.True(File.Exists(Path.Combine(again[0], "etc", "hello")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_and_ambiguous_references_are_typed_errors()
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var missing = await Assert.ThrowsAsync<ImageNotFoundException>(() => store.ResolveAsync("nothing:here", Ct));
        await Assert.ThrowsAsync<InvalidReferenceException>(() => store.TagAsync("nothing", "Bad/Name", Ct));

        Assert.Equal("nothing:here", missing.Reference);
    }
}
