using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>Named and anonymous volumes: they outlive containers, start with the image's content, and cannot be removed while used.</summary>
public sealed class VolumeTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var state = _temp.Combine("state");
        Directory.CreateDirectory(state);
        _runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = state, Images = _store }, Ct);
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.env=PATH=/bin", "--config.volume=/data"], rootfs =>
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "data", "sub"));
            File.WriteAllText(Path.Combine(rootfs, "data", "seed.txt"), "seed\n");
            File.WriteAllText(Path.Combine(rootfs, "data", "sub", "deep.txt"), "deep\n");
            File.CreateSymbolicLink(Path.Combine(rootfs, "data", "passwd"), "/etc/passwd");
        });
        await _store.ImportAsync(layout, "volumes:1", progress: null, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _store.DisposeAsync();
        _temp.Dispose();
    }

    private Task<ContainerResult> RunAsync(string script, params VolumeMount[] volumes) =>
        _runtime.RunFromImageAsync("volumes:1", new ImageContainerOptions { Command = ["sh", "-c", script], Volumes = volumes }, Ct);

    [Fact(Timeout = 120_000)]
    public async Task A_named_volume_starts_with_the_images_content_and_outlives_its_containers()
    {
        var first = await RunAsync("cat /data/seed.txt /data/sub/deep.txt; echo written > /data/new", new VolumeMount("shared", "/data"));
        var second = await RunAsync("cat /data/new; ls /data", new VolumeMount("shared", "/data", ReadOnly: true));
        var readOnly = await RunAsync("echo x > /data/other", new VolumeMount("shared", "/data", ReadOnly: true));
        var volume = await _runtime.GetVolumeAsync("shared", Ct);

        Assert.Equal("seed\ndeep\n", first.Stdout);
        Assert.Equal("written\nnew\npasswd\nseed.txt\nsub\n", second.Stdout);
        Assert.NotEqual(0, readOnly.ExitCode);
        Assert.True(volume.Populated);
        Assert.False(volume.Anonymous);
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(volume.Mountpoint, "passwd")).LinkTarget); // copied as a link, never followed
        Assert.Equal("written\n", await File.ReadAllTextAsync(Path.Combine(volume.Mountpoint, "new"), Ct));
        Assert.Contains(await _runtime.ListVolumesAsync(Ct), v => v.Name == "shared");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_volume_in_use_cannot_be_removed_until_its_container_is()
    {
        await _runtime.CreateVolumeAsync("busy", Ct);
        var container = await _runtime.CreateFromImageAsync(null, "volumes:1", new ImageContainerOptions { Command = ["true"], Volumes = [new VolumeMount("busy", "/busy")] }, Ct);

        var inUse = await Assert.ThrowsAsync<VolumeInUseException>(() => _runtime.RemoveVolumeAsync("busy", Ct));
        var prunedWhileUsed = await _runtime.PruneVolumesAsync(Ct);
        await container.DisposeAsync();
        await _runtime.RemoveVolumeAsync("busy", Ct);

        Assert.Equal([container.Id], inUse.Containers);
        Assert.DoesNotContain("busy", prunedWhileUsed);
        Assert.DoesNotContain(await _runtime.ListVolumesAsync(Ct), v => v.Name == "busy");
        await Assert.ThrowsAsync<VolumeNotFoundException>(() => _runtime.GetVolumeAsync("busy", Ct));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_path_the_image_declares_gets_an_anonymous_volume_with_its_content()
    {
        var result = await RunAsync("cat /data/seed.txt; grep -c ' /data ' /proc/self/mounts");

        var volume = Assert.Single(await _runtime.ListVolumesAsync(Ct));
        Assert.Equal("seed\n1\n", result.Stdout);
        Assert.True(volume.Anonymous);
        Assert.Equal(64, volume.Name.Length);
        Assert.Equal("seed\n", await File.ReadAllTextAsync(Path.Combine(volume.Mountpoint, "seed.txt"), Ct));
        Assert.Equal([volume.Name], await _runtime.PruneVolumesAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_volume_name_or_destination_is_refused_before_anything_is_created()
    {
        await Assert.ThrowsAsync<InvalidVolumeNameException>(() => RunAsync("true", new VolumeMount("../evil", "/x")));
        var climbing = await Assert.ThrowsAsync<InvalidImageConfigException>(() => RunAsync("true", new VolumeMount("fine", "/a/../../x")));

        Assert.Equal("Volumes", climbing.Field);
        Assert.Empty(await _runtime.ListVolumesAsync(Ct));
    }
}
