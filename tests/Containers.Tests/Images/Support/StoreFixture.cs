using Containers.Images;

namespace Containers.Tests.Images.Support;

/// <summary>A private image store on tmpfs (rootless mode, so it needs no privilege) and a scratch directory beside it.</summary>
internal sealed class StoreFixture : IAsyncDisposable
{
    private StoreFixture(string directory, ImageStore store)
    {
        Directory = directory;
        Store = store;
    }

    public string Directory { get; }

    public ImageStore Store { get; }

    public string Root => Store.Root;

    public static async Task<StoreFixture> CreateAsync(int maxLayers = ImageStoreOptions.DefaultMaxLayers)
    {
        string baseDir = System.IO.Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string directory = System.IO.Directory.CreateDirectory(Path.Combine(baseDir, "image-store-test-" + Guid.NewGuid().ToString("N"))).FullName;
        var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(directory, "store"), Rootless = true, MaxLayers = maxLayers }, TestContext.Current.CancellationToken);
        return new StoreFixture(directory, store);
    }

    /// <summary>A path in the scratch directory.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>What a failed import must leave exactly as it was: the index, the blobs and the snapshots.</summary>
    public string State() =>
        File.ReadAllText(Path.Combine(Root, "index.json")) + "\n"
        + string.Join('\n', System.IO.Directory.EnumerateFiles(Path.Combine(Root, "blobs"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)) + "\n"
        + string.Join('\n', System.IO.Directory.Exists(Path.Combine(Root, "snapshots", "sha256"))
            ? System.IO.Directory.EnumerateDirectories(Path.Combine(Root, "snapshots", "sha256")).Order(StringComparer.Ordinal)
            : Enumerable.Empty<string>());

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Containers.Linux.DirectoryTree.Remove(Directory);
    }
}
