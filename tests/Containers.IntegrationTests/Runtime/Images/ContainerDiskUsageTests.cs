using System.Globalization;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// <c>Container.MeasureDiskUsage</c> (as root, and in the rootless pass as an unprivileged user): the bytes the
/// kernel wrote to a container's upper directory, and with its image's layers, as GNU find counts them.
/// </summary>
public sealed class ContainerDiskUsageTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;
    private ImageRuntime _images = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _images = await ImageRuntime.OpenAsync(_temp, Ct);
        (_store, _runtime) = (_images.Store, _images.Runtime);
    }

    public async ValueTask DisposeAsync()
    {
        await _images.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 180_000)]
    public async Task The_writable_layer_counts_what_the_container_wrote_once_per_file_and_the_root_adds_the_images_layers()
    {
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await _store.ImportAsync(layout, "sized:1", progress: null, Ct);
        await using var container = await _runtime.CreateFromImageAsync(
            null,
            "sized:1",
            new ImageContainerOptions
            {
                // 12 000 bytes, a second name for them (counted once), a link whose target is 3 bytes long, an empty
                // file and a deletion (neither takes a byte).
                Command = ["-c", "busybox head -c 12000 /dev/zero > /big; busybox ln /big /again; busybox ln -s big /link; busybox touch /empty; busybox rm -f /etc/motd"],
                Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null },
            },
            Ct);
        var before = container.MeasureDiskUsage(Ct);
        await container.StartAsync(Ct);
        Assert.Equal(0, (await container.WaitAsync(Ct)).ExitCode);

        var usage = container.MeasureDiskUsage(Ct);

        var layers = await _store.GetSnapshotChainAsync("sized:1", Ct);
        long image = 0;
        foreach (var layer in layers)
        {
            image += await FindBytesAsync(layer);
        }

        Assert.NotNull(before);
        Assert.Equal(0, before.WritableLayer);
        Assert.Equal(image, before.RootFilesystem);
        Assert.NotNull(usage);
        // The /etc/hosts and /etc/hostname the runtime wrote into the layer are left out, as Docker's are in none.
        var upper = Path.Combine(container.State.ContainerDirectory!, "upper");
        var written = new FileInfo(Path.Combine(upper, "etc", "hosts")).Length + new FileInfo(Path.Combine(upper, "etc", "hostname")).Length;
        Assert.Equal(await FindBytesAsync(upper) - written, usage.WritableLayer);
        Assert.Equal(12_003, usage.WritableLayer);
        Assert.Equal(image + 12_003, usage.RootFilesystem);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_root_without_a_layer_of_its_own_has_no_disk_usage_and_a_directory_used_copy_on_write_is_counted_as_it_is_now()
    {
        var directory = _temp.Combine("rootfs");
        Directory.CreateDirectory(Path.Combine(directory, "bin"));
        File.Copy(Requires.Tool("busybox"), Path.Combine(directory, "bin", "busybox"));
        await using var host = await _runtime.CreateAsync(ContainerSpec.For("/bin/true"), Ct);
        await using var cow = await _runtime.CreateAsync(
            null, ContainerSpec.For("/bin/busybox", "true"), new ContainerCreateOptions { Overlay = OverlayRootfs.FromDirectory(directory) }, Ct);

        var first = cow.MeasureDiskUsage(Ct);
        await File.WriteAllBytesAsync(Path.Combine(directory, "added"), new byte[500], Ct);
        var second = cow.MeasureDiskUsage(Ct);

        Assert.Null(host.MeasureDiskUsage(Ct));
        Assert.Equal(new ContainerDiskUsage(0, new FileInfo(Path.Combine(directory, "bin", "busybox")).Length), first);
        Assert.Equal(first! with { RootFilesystem = first.RootFilesystem + 500 }, second);
    }

    /// <summary>What GNU find lists under <paramref name="directory"/> but directories, each inode once: the sum of their sizes.</summary>
    private static async Task<long> FindBytesAsync(string directory)
    {
        var listing = await ImageFixtures.RunAsync("find", directory, "!", "-type", "d", "-printf", "%D %i %s\\n");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)
            .Sum(line => long.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture));
    }
}
