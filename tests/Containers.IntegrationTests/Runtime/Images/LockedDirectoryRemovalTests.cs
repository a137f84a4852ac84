using System.Formats.Tar;
using System.Runtime.Versioning;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// A layer may hold directories of mode 000 with files in them, which a store keeps as they are (rootless too: the
/// caller owns them but may not list them until it changes their mode). Every removal the library does itself gets
/// rid of them: a container's writable layer that copied one up, an image removed and pruned, a layer whose unpack
/// failed half-way, and a container whose users left private directories under subordinate ids.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LockedDirectoryRemovalTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Snapshots => Path.Combine(_store.Root, "snapshots");

    /// <summary>The snapshots and staging directories in the store (its lock files aside).</summary>
    private List<string> SnapshotDirectories =>
        [.. Directory.EnumerateDirectories(Snapshots).Where(d => Path.GetFileName(d) != "sha256"),
         .. Directory.Exists(Path.Combine(Snapshots, "sha256")) ? Directory.EnumerateFileSystemEntries(Path.Combine(Snapshots, "sha256")) : []];

    private string Storage => _temp.Combine("containers");

    public async ValueTask InitializeAsync()
    {
        _store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var state = _temp.Combine("state");
        Directory.CreateDirectory(state);
        _runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = state, StorageDirectory = Storage, Images = _store }, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        // The store's own removal, not the temporary directory's: that one cannot enter a mode 000 directory rootless.
        foreach (var image in await _store.ListAsync(CancellationToken.None))
        {
            await _store.RemoveAsync(image.Digest.ToString(), CancellationToken.None);
        }

        await _runtime.DisposeAsync();
        await _store.DisposeAsync();
        _temp.Dispose();
    }

    /// <summary>An image of busybox plus a layer with <c>/locked</c> (mode 000) holding a file and <c>sub</c> (mode 000) holding another, then <paramref name="more"/>.</summary>
    private async Task<string> LockedImageAsync(string name, params TarEntry[] more)
    {
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine(name), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        var layer = _temp.Combine(name + "-layer.tar");
        await using (var file = File.Create(layer))
        await using (var writer = new TarWriter(file, TarEntryFormat.Pax))
        {
            TarEntry[] entries =
            [
                new PaxTarEntry(TarEntryType.Directory, "locked/") { Mode = 0 },
                new PaxTarEntry(TarEntryType.RegularFile, "locked/file") { Mode = (UnixFileMode)0x1a4, DataStream = new MemoryStream("file\n"u8.ToArray()) },
                new PaxTarEntry(TarEntryType.Directory, "locked/sub/") { Mode = 0 },
                new PaxTarEntry(TarEntryType.RegularFile, "locked/sub/deep") { Mode = 0, DataStream = new MemoryStream("deep\n"u8.ToArray()) },
                .. more,
            ];
            foreach (var entry in entries)
            {
                await writer.WriteEntryAsync(entry, Ct);
            }
        }

        await ImageFixtures.RunAsync("umoci", "raw", "add-layer", "--image", $"{layout}:{ImageFixtures.Tag}", layer);
        return layout;
    }

    [Fact(Timeout = 180_000)]
    public async Task Mode_000_directories_of_a_layer_go_with_the_container_the_image_removal_and_a_prune()
    {
        await _store.ImportAsync(await LockedImageAsync("good"), "locked:1", progress: null, Ct);
        var result = await _runtime.RunFromImageAsync(
            "locked:1", new ImageContainerOptions { Command = ["-c", "busybox cat /locked/file /locked/sub/deep; echo new > /locked/sub/new; busybox chmod 000 /locked/sub"] }, Ct);
        var chain = await _store.GetSnapshotChainAsync("locked:1", Ct);
        var layerMode = (await ImageFixtures.RunAsync("stat", "-c", "%a", Path.Combine(chain[0], "locked"))).Trim();

        var removed = await _store.RemoveAsync("locked:1", Ct);
        var pruned = await _store.PruneAsync(Ct);

        Assert.Equal((0, "file\ndeep\n"), (result.ExitCode, result.Stdout));
        Assert.Equal("0", layerMode);
        Assert.Empty(Directory.Exists(Storage) ? Directory.EnumerateFileSystemEntries(Storage) : []);
        Assert.True(removed.RemovedSnapshots > 0, $"the removal swept {removed.RemovedSnapshots} snapshots");
        Assert.Equal(0, pruned.RemovedSnapshots);
        Assert.Empty(SnapshotDirectories);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_layer_that_fails_after_making_mode_000_directories_leaves_no_staging_directory()
    {
        var layout = await LockedImageAsync("bad", new PaxTarEntry(TarEntryType.HardLink, "locked/sub/link") { LinkName = "missing" });

        var error = await Record.ExceptionAsync(() => _store.ImportAsync(layout, "bad:1", progress: null, Ct));
        var left = SnapshotDirectories;

        Assert.IsAssignableFrom<ContainersException>(error);
        Assert.Contains("missing", error!.Message, StringComparison.Ordinal);

        // The layers below the failed one stay, complete, for the next import; nothing half-made does.
        Assert.DoesNotContain(left, d => !Path.GetFileName(Path.GetDirectoryName(d))!.Equals("sha256", StringComparison.Ordinal));
        Assert.All(left, d => Assert.False(File.Exists(Path.Combine(d, "locked", "file")), $"{d} holds the failed layer"));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_container_whose_users_left_private_directories_is_removed_also_without_root()
    {
        // Rootless these belong to subordinate ids: the caller may neither list /home/app/private nor unlink in it.
        await _store.ImportAsync(await LockedImageAsync("users"), "users:1", progress: null, Ct);
        var container = await _runtime.CreateFromImageAsync(
            null,
            "users:1",
            new ImageContainerOptions
            {
                Command = ["-c", "busybox mkdir -p /home/app/private/deeper/deepest; echo x > /home/app/private/deeper/deepest/f; busybox chown -R 1234:2000 /home/app; busybox chmod 700 /home/app/private/deeper /home/app/private; busybox chmod 000 /home/app/private/deeper/deepest"],
                Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null },
            },
            Ct);
        var folder = container.State.ContainerDirectory!;
        await container.StartAsync(Ct);
        var exit = await container.WaitAsync(Ct);

        await container.DisposeAsync();

        Assert.Equal(0, exit.ExitCode);
        Assert.False(Directory.Exists(folder), $"{folder} is left");
    }
}
