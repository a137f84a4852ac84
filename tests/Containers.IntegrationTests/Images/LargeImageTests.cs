using System.Security.Cryptography;
using Containers.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

/// <summary>A ~200 MB image of 20 000 small files, built with tar and pigz on tmpfs (the disk is slow to churn).</summary>
public sealed class LargeImageTests : IDisposable
{
    private const int Directories = 200;
    private const int FilesPerDirectory = 100;
    private const int FileSize = 10_000;

    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 300_000)]
    public async Task A_200_MB_image_of_20000_small_files_imports_and_its_snapshot_holds_every_file()
    {
        Requires.Tool("pigz");
        Assert.SkipUnless(Directory.Exists("/dev/shm"), "needs /dev/shm (tmpfs) for a tree of 20 000 files");
        using var shm = new TempDirectory("/dev/shm");
        string tree = Path.Combine(shm.Path, "tree");
        var random = new Random(42);
        var buffer = new byte[FileSize];
        for (int d = 0; d < Directories; d++)
        {
            string directory = Path.Combine(tree, "data", $"d{d:D3}");
            Directory.CreateDirectory(directory);
            for (int f = 0; f < FilesPerDirectory; f++)
            {
                random.NextBytes(buffer);
                await File.WriteAllBytesAsync(Path.Combine(directory, $"f{f:D3}"), buffer, Ct);
            }
        }

        string stage = Path.Combine(shm.Path, "stage");
        Directory.CreateDirectory(stage);
        string layer = Path.Combine(stage, "layer.tar");
        await ImageFixtures.RunAsync("tar", "--numeric-owner", "-cf", layer, "-C", tree, "data");
        string diffId;
        await using (var stream = File.OpenRead(layer))
        {
            diffId = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct));
        }

        await ImageFixtures.RunAsync("pigz", "-1", layer);
        string config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:""" + diffId + "\"]}}";
        await File.WriteAllTextAsync(Path.Combine(stage, "config.json"), config, Ct);
        await File.WriteAllTextAsync(Path.Combine(stage, "manifest.json"), """[{"Config":"config.json","RepoTags":["large:1"],"Layers":["layer.tar.gz"]}]""", Ct);
        string archive = Path.Combine(shm.Path, "large.tar");
        await ImageFixtures.RunAsync("tar", "-cf", archive, "-C", stage, ".");
        Directory.Delete(stage, recursive: true);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(shm.Path, "store") }, Ct);

        var image = Assert.Single(await store.ImportAsync(archive, tag: null, progress: null, Ct));
        var chain = await store.GetSnapshotChainAsync("large:1", Ct);

        Assert.InRange(image.Size, 200_000_000, 210_000_000);
        string snapshot = Assert.Single(chain);
        Assert.Equal(Directories * FilesPerDirectory, Directory.EnumerateFiles(Path.Combine(snapshot, "data"), "*", SearchOption.AllDirectories).Count());
        for (int i = 0; i < 50; i++)
        {
            string relative = Path.Combine("data", $"d{random.Next(Directories):D3}", $"f{random.Next(FilesPerDirectory):D3}");
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(tree, relative), Ct), await File.ReadAllBytesAsync(Path.Combine(snapshot, relative), Ct));
        }
    }
}
