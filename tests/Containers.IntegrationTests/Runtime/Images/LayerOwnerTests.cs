using System.Formats.Tar;
using System.Runtime.Versioning;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Volumes;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// The owners a layer gives its files are what a container sees and what the kernel enforces, root and rootless.
/// Without root the store gives them for real under the caller's subordinate ids (id N is the Nth subordinate id, as
/// in a rootless container's user namespace); an id the ranges do not hold, or a user without ranges, leaves the file
/// the container root's. The store removes such snapshots itself.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LayerOwnerTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private ImageRuntime _images = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ImageStore Store => _images.Store;

    private ContainerRuntime Runtime => _images.Runtime;

    public async ValueTask InitializeAsync() => _images = await ImageRuntime.OpenAsync(_temp, Ct);

    public async ValueTask DisposeAsync()
    {
        await _images.DisposeAsync();
        _temp.Dispose();
    }

    /// <summary>Imports as <paramref name="reference"/> an image of busybox (<see cref="ConfiguredImage"/>) plus a layer of <paramref name="entries"/>.</summary>
    private async Task ImportAsync(string reference, params TarEntry[] entries)
    {
        var name = reference.Replace(':', '-');
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine(name), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        var layer = _temp.Combine(name + ".tar");
        await using (var file = File.Create(layer))
        await using (var writer = new TarWriter(file, TarEntryFormat.Pax))
        {
            foreach (var entry in entries)
            {
                await writer.WriteEntryAsync(entry, Ct);
            }
        }

        await ImageFixtures.RunAsync("umoci", "raw", "add-layer", "--image", $"{layout}:{ImageFixtures.Tag}", layer);
        await Store.ImportAsync(layout, reference, progress: null, Ct);
    }

    [Fact(Timeout = 180_000)]
    public async Task Files_of_a_layer_keep_their_owners_inside_the_container_and_the_store_removes_them()
    {
        await ImportAsync(
            "owners:1",
            new PaxTarEntry(TarEntryType.Directory, "srv/") { Mode = (UnixFileMode)0x1ed, Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.RegularFile, "srv/index") { Mode = (UnixFileMode)0x1a0, Uid = 33, Gid = 33, DataStream = new MemoryStream("index\n"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.SymbolicLink, "srv/link") { LinkName = "index", Uid = 33, Gid = 34 },
            new PaxTarEntry(TarEntryType.Fifo, "srv/fifo") { Mode = (UnixFileMode)0x1a4, Uid = 5, Gid = 5 },
            new PaxTarEntry(TarEntryType.Directory, "home/") { Mode = (UnixFileMode)0x1ed },
            new PaxTarEntry(TarEntryType.Directory, "home/app/") { Mode = (UnixFileMode)0x1c0, Uid = 1234, Gid = 2000 },
            new PaxTarEntry(TarEntryType.RegularFile, "home/app/secret") { Mode = (UnixFileMode)0x180, Uid = 1234, Gid = 2000, DataStream = new MemoryStream("secret\n"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.RegularFile, "bin/setgid") { Mode = (UnixFileMode)0x5ed, Gid = 50, DataStream = new MemoryStream("x"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.RegularFile, "far") { Mode = (UnixFileMode)0x1a4, Uid = 70000, Gid = 70000 });

        var listing = await RunAsync(null, "busybox stat -c '%u:%g %a %n' /srv /srv/index /srv/link /srv/fifo /home/app /home/app/secret /bin/setgid /far");
        var asApp = await RunAsync("app", "busybox cat /home/app/secret");
        var asOther = await RunAsync("33", "busybox cat /home/app/secret 2>&1; busybox cat /srv/index");

        // Root gives every owner; without root the subordinate ranges (65536 ids by default) hold all but 70000.
        var root = Environment.IsPrivilegedProcess;
        var ranges = SubordinateIds.Current;
        string Owner(uint uid, uint gid) => root || (ranges is not null && uid <= ranges.UidCount && gid <= ranges.GidCount) ? $"{uid}:{gid}" : "0:0";
        Assert.Equal(
            $"""
            {Owner(33, 33)} 755 /srv
            {Owner(33, 33)} 640 /srv/index
            {Owner(33, 34)} 777 /srv/link
            {Owner(5, 5)} 644 /srv/fifo
            {Owner(1234, 2000)} 700 /home/app
            {Owner(1234, 2000)} 600 /home/app/secret
            {Owner(0, 50)} 2755 /bin/setgid
            {Owner(70000, 70000)} 644 /far

            """,
            listing.Stdout);
        if (root || ranges is not null)
        {
            Assert.Equal((0, "secret\n"), (asApp.ExitCode, asApp.Stdout));
            Assert.Equal((0, "cat: can't open '/home/app/secret': Permission denied\nindex\n"), (asOther.ExitCode, asOther.Stdout));
        }

        // The store removes what it gave away (the caller may neither list /home/app nor unlink in /srv).
        var snapshots = await Store.GetSnapshotChainAsync("owners:1", Ct);
        await Store.RemoveAsync("owners:1", Ct);
        Assert.All(snapshots, s => Assert.False(Directory.Exists(s), $"{s} is left"));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_diff_disk_usage_copy_and_commit_of_a_stopped_container_whose_user_changed_its_private_home_see_all_of_it()
    {
        await ImportAsync(
            "home:1",
            new PaxTarEntry(TarEntryType.Directory, "home/") { Mode = (UnixFileMode)0x1ed },
            new PaxTarEntry(TarEntryType.Directory, "home/app/") { Mode = (UnixFileMode)0x1c0, Uid = 1234, Gid = 2000 },
            new PaxTarEntry(TarEntryType.RegularFile, "home/app/secret") { Mode = (UnixFileMode)0x180, Uid = 1234, Gid = 2000, DataStream = new MemoryStream(new byte[100_000]) },
            new PaxTarEntry(TarEntryType.Directory, "home/app/sub/") { Mode = (UnixFileMode)0x1c0, Uid = 1234, Gid = 2000 },
            new PaxTarEntry(TarEntryType.RegularFile, "home/app/sub/old") { Mode = (UnixFileMode)0x180, Uid = 1234, Gid = 2000 });
        await using var container = await Runtime.CreateFromImageAsync(
            null,
            "home:1",
            new ImageContainerOptions
            {
                User = "app",
                Command = ["-c", "echo more >> /home/app/secret; echo new > /home/app/new; busybox rm -r /home/app/sub; busybox mkdir /home/app/sub; busybox head -c 50000 /dev/zero > /home/app/sub/new"],
                Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null },
            },
            Ct);
        await container.StartAsync(Ct);
        Assert.Equal(0, (await container.WaitAsync(Ct)).ExitCode);

        // Without root the lookups below /home/app (0700, another owner's) are made in the image as the ranges see it,
        // and what is below it is counted from fds opened there.
        var changes = await container.DiffAsync(Ct);
        var usage = container.MeasureDiskUsage(Ct);

        Assert.Equal(
            ["C /home", "C /home/app", "A /home/app/new", "C /home/app/secret", "C /home/app/sub", "A /home/app/sub/new", "D /home/app/sub/old"],
            changes.Select(c => c.ToString()));
        var copied = _temp.Combine("copied");
        await container.CopyFromAsync("/home/app", copied, cancellationToken: Ct);
        Assert.Equal(100_005, new FileInfo(Path.Combine(copied, "secret")).Length);
        Assert.Equal(50_000, new FileInfo(Path.Combine(copied, "sub", "new")).Length);
        var put = _temp.Combine("put");
        await File.WriteAllTextAsync(put, "put\n", Ct);
        await container.CopyToAsync(put, "/home/app/sub/put", cancellationToken: Ct);
        await container.CopyFromAsync("/home/app/sub/put", _temp.Combine("put-back"), cancellationToken: Ct);
        Assert.Equal("put\n", await File.ReadAllTextAsync(_temp.Combine("put-back"), Ct));

        var committed = await container.CommitAsync("home:2", cancellationToken: Ct);
        var listing = await ImageFixtures.RunAsync(
            "tar", "--numeric-owner", "-tvzf", Path.Combine(Store.Root, "blobs", "sha256", committed.Manifest.Layers[^1].Digest.Hex));

        Assert.Matches(@"(?m)^drwx------ 1234/2000 .* home/app/$", listing);
        Assert.Matches(@"(?m)^-rw------- 1234/2000 .* home/app/secret$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- 1234/2000 .* home/app/sub/new$", listing);
        Assert.NotNull(usage);
        Assert.Equal(100_005 + 4 + 50_000, usage.WritableLayer);
        Assert.InRange(usage.RootFilesystem - usage.WritableLayer, 100_000 + new FileInfo("/bin/busybox").Length, long.MaxValue);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_volume_filled_from_the_image_keeps_the_owners_and_is_removed_with_them()
    {
        await ImportAsync(
            "data:1",
            new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0x1ed },
            new PaxTarEntry(TarEntryType.Directory, "data/cache/") { Mode = (UnixFileMode)0x1ed, Uid = 1234, Gid = 2000 },
            new PaxTarEntry(TarEntryType.RegularFile, "data/cache/f") { Mode = (UnixFileMode)0x1a4, Uid = 1234, Gid = 2000, DataStream = new MemoryStream("f\n"u8.ToArray()) },
            new PaxTarEntry(TarEntryType.SymbolicLink, "data/link") { LinkName = "cache/f", Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.RegularFile, "data/setgid") { Mode = (UnixFileMode)0x5ed, Gid = 50 });
        Assert.SkipWhen(!Environment.IsPrivilegedProcess && SubordinateIds.Current is null, "runs as a user other than root: needs root or subordinate ranges (/etc/subuid, newuidmap)");

        // The user writes into the directory the image gave it: in the volume it is still that user's.
        var result = await Runtime.RunFromImageAsync(
            "data:1",
            new ImageContainerOptions
            {
                Volumes = [new VolumeMount("data", "/data")],
                User = "app",
                Command = ["-c", "echo new > /data/cache/new && busybox stat -c '%u:%g %a %n' /data/cache /data/cache/f /data/cache/new /data/link /data/setgid"],
            },
            Ct);
        await Runtime.RemoveVolumeAsync("data", Ct);

        Assert.Equal(
            (0,
             """
             1234:2000 755 /data/cache
             1234:2000 644 /data/cache/f
             1234:2000 644 /data/cache/new
             33:33 777 /data/link
             0:50 2755 /data/setgid

             """),
            (result.ExitCode, result.Stdout));
        Assert.Empty(await Runtime.ListVolumesAsync(Ct));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_later_entry_of_a_layer_decides_the_owner_of_its_name_and_what_it_replaced_is_not_given_one()
    {
        await ImportAsync(
            "later:1",
            new PaxTarEntry(TarEntryType.Directory, "x/") { Mode = (UnixFileMode)0x1ed, Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.RegularFile, "x/f") { Mode = (UnixFileMode)0x1a4, Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.RegularFile, "x") { Mode = (UnixFileMode)0x1a4 },
            new PaxTarEntry(TarEntryType.Directory, "y/") { Mode = (UnixFileMode)0x1ed, Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.Directory, "y/") { Mode = (UnixFileMode)0x1ed },
            new PaxTarEntry(TarEntryType.RegularFile, "y/f") { Mode = (UnixFileMode)0x1a4, Uid = 5, Gid = 5 },
            new PaxTarEntry(TarEntryType.HardLink, "y/h") { LinkName = "y/f" },
            new PaxTarEntry(TarEntryType.RegularFile, "z") { Mode = (UnixFileMode)0x1a4, Uid = 33, Gid = 33 },
            new PaxTarEntry(TarEntryType.SymbolicLink, "z") { LinkName = "y/f" });

        var result = await Runtime.RunFromImageAsync(
            "later:1", new ImageContainerOptions { Command = ["-c", "busybox stat -c '%u:%g %F %n' /x /y /y/f /y/h /z"] }, Ct);

        string Owner(uint uid, uint gid) => Environment.IsPrivilegedProcess || SubordinateIds.Current is not null ? $"{uid}:{gid}" : "0:0";
        Assert.Equal(
            (0,
             $"""
             0:0 regular empty file /x
             0:0 directory /y
             {Owner(5, 5)} regular empty file /y/f
             {Owner(5, 5)} regular empty file /y/h
             0:0 symbolic link /z

             """),
            (result.ExitCode, result.Stdout));
    }

    private async Task<ContainerResult> RunAsync(string? user, string script) =>
        await Runtime.RunFromImageAsync("owners:1", new ImageContainerOptions { User = user, Command = ["-c", script] }, Ct);
}
