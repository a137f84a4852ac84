using System.Text.Json;
using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// <c>Container.CommitAsync</c> and <c>DiffAsync</c> on containers the runtime made from images (as root, and in the
/// rootless pass as an unprivileged user): the kernel writes the upper directory, third-party tools read the result.
/// </summary>
public sealed class ContainerCommitTests : IAsyncLifetime
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

    private async Task<Image> ImportAsync()
    {
        var layout = await ConfiguredImage.BuildAsync(
            _temp.Combine("image"),
            ["--config.entrypoint=sh", "--config.env=PATH=/bin", "--config.env=GREETING=image", "--config.label=tier=base"],
            rootfs =>
            {
                Directory.CreateDirectory(Path.Combine(rootfs, "srv", "old"));
                File.WriteAllText(Path.Combine(rootfs, "srv", "old", "a"), "a\n");
                File.WriteAllText(Path.Combine(rootfs, "srv", "old", "keep-me-not"), "b\n");
                File.WriteAllText(Path.Combine(rootfs, "etc", "motd"), "image motd\n");
            });
        return Assert.Single(await _store.ImportAsync(layout, "base:1", progress: null, Ct));
    }

    private async Task<Container> RunToEndAsync(string script, ImageContainerOptions? options = null)
    {
        var container = await _runtime.CreateFromImageAsync(
            null, "base:1", (options ?? new ImageContainerOptions()) with { Command = ["-c", script], Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null } }, Ct);
        await container.StartAsync(Ct);
        var exit = await container.WaitAsync(Ct);
        Assert.Equal(0, exit.ExitCode);
        return container;
    }

    [Fact(Timeout = 180_000)]
    public async Task A_container_commits_to_an_image_that_skopeo_and_umoci_read_and_that_runs_with_the_change()
    {
        string umoci = Requires.Tool("umoci");
        string skopeo = Requires.Tool("skopeo");
        var baseImage = await ImportAsync();
        var snapshots = await _store.GetSnapshotChainAsync("base:1", Ct);
        var before = snapshots.Select(Listing).ToList();
        await using var container = await RunToEndAsync(
            "busybox rm /etc/motd /bin/ls; busybox rm -r /srv/old; busybox mkdir /srv/old /opt; echo again > /srv/old/a; echo made > /opt/new",
            new ImageContainerOptions { Env = ["GREETING=committed"], WorkingDirectory = "/srv", Labels = new Dictionary<string, string> { ["run"] = "yes" } });

        var diff = await container.DiffAsync(Ct);
        var progress = new List<ImageProgress>();
        var committed = await container.CommitAsync(
            "committed:1",
            new CommitOptions { Message = "from a container", Config = new ContainerConfig { Labels = new Dictionary<string, string> { ["stage"] = "committed" } } },
            progress: new SynchronousProgress<ImageProgress>(progress.Add),
            cancellationToken: Ct);

        // The runtime's own mount points (/proc, /dev, /sys, which the image lacks) are not changes of the container.
        Assert.Equal(
            ["C /bin", "D /bin/ls", "C /etc", "D /etc/motd", "A /opt", "A /opt/new", "C /srv", "C /srv/old", "C /srv/old/a", "D /srv/old/keep-me-not"],
            diff.Select(c => c.ToString()));
        Assert.Equal(baseImage.Digest, (await _store.ResolveAsync("base:1", Ct)).Digest);
        Assert.Equal(before, snapshots.Select(Listing).ToList());
        Assert.Equal(baseImage.Manifest.Layers.Count + 1, committed.Manifest.Layers.Count);
        var config = committed.Config.Config!;
        Assert.Equal(["-c", "busybox rm /etc/motd /bin/ls; busybox rm -r /srv/old; busybox mkdir /srv/old /opt; echo again > /srv/old/a; echo made > /opt/new"], config.Cmd!);
        Assert.Equal(["PATH=/bin", "GREETING=committed"], config.Env!);
        Assert.Equal("/srv", config.WorkingDir);
        Assert.Equal(new Dictionary<string, string> { ["tier"] = "base", ["run"] = "yes", ["stage"] = "committed" }, config.Labels!.ToDictionary());
        Assert.Equal("from a container", committed.Config.History![^1].Comment);
        Assert.Equal($"containers commit {container.Id}", committed.Config.History[^1].CreatedBy);
        Assert.Equal(progress[^1].Total, progress[^1].Completed);

        string exported = _temp.Combine("exported");
        await _store.ExportAsync("committed:1", exported, ImageArchiveFormat.OciLayout, Ct);
        var inspected = JsonDocument.Parse(await ImageFixtures.RunAsync(skopeo, "inspect", $"oci:{exported}:docker.io/library/committed:1")).RootElement;
        Assert.Equal(committed.Digest.ToString(), inspected.GetProperty("Digest").GetString());
        Assert.Equal("committed", inspected.GetProperty("Labels").GetProperty("stage").GetString());
        string bundle = _temp.Combine("bundle");
        await ImageFixtures.RunAsync(umoci, ["unpack", .. Requires.IsRoot ? Array.Empty<string>() : ["--rootless"], "--image", $"{exported}:docker.io/library/committed:1", bundle]);
        string rootfs = Path.Combine(bundle, "rootfs");
        Assert.False(File.Exists(Path.Combine(rootfs, "etc", "motd")));
        Assert.False(File.Exists(Path.Combine(rootfs, "bin", "ls")));
        Assert.Equal(["a"], Directory.GetFileSystemEntries(Path.Combine(rootfs, "srv", "old")).Select(Path.GetFileName));
        Assert.Equal("made\n", File.ReadAllText(Path.Combine(rootfs, "opt", "new")));
        Assert.False(Directory.Exists(Path.Combine(rootfs, "proc")));

        var rerun = await _runtime.RunFromImageAsync("committed:1", new ImageContainerOptions { Command = ["-c", "pwd; cat /opt/new /srv/old/a; ls /srv/old; test -e /etc/motd || echo no motd; echo $GREETING"] }, Ct);
        Assert.Equal(("", 0), (rerun.Stderr, rerun.ExitCode));
        Assert.Equal("/srv\nmade\nagain\na\nno motd\ncommitted\n", rerun.Stdout);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_container_that_changed_nothing_has_an_empty_diff_and_commits_an_empty_layer()
    {
        await ImportAsync();
        await using var container = await RunToEndAsync("true", new ImageContainerOptions { Volumes = [new VolumeMount("data", "/data")] });

        var diff = await container.DiffAsync(Ct);
        var committed = await container.CommitAsync("empty:1", cancellationToken: Ct);

        Assert.Empty(diff);
        var layers = await _store.GetSnapshotChainAsync("empty:1", Ct);
        Assert.Empty(Directory.GetFileSystemEntries(layers[0]));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_running_container_commits_and_keeps_running_and_a_pause_it_cannot_do_is_refused()
    {
        await ImportAsync();
        await using var container = await _runtime.CreateFromImageAsync(
            null, "base:1", new ImageContainerOptions { Command = ["-c", "echo live > /live; echo ready; exec sleep 60"] }, Ct);
        await container.StartAsync(Ct);
        await foreach (var line in container.ReadOutputLinesAsync(Ct))
        {
            Assert.Equal("ready", line.Text);
            break;
        }

        var refused = await Assert.ThrowsAsync<ContainerStatusException>(() => container.CommitAsync("live:1", pause: true, cancellationToken: Ct));
        var committed = await container.CommitAsync("live:1", cancellationToken: Ct);

        Assert.Contains("no cgroup", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ContainerStatus.Running, container.Status);
        var rerun = await _runtime.RunFromImageAsync(committed, new ImageContainerOptions { Command = ["-c", "cat /live"] }, Ct);
        Assert.Equal("live\n", rerun.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_container_not_made_from_an_image_cannot_be_committed()
    {
        await using var container = await _runtime.CreateAsync(ContainerSpec.For("/bin/true"), Ct);

        var error = await Assert.ThrowsAsync<ImageCommitException>(() => container.CommitAsync("no:1", cancellationToken: Ct));

        Assert.Contains("not made from an image", error.Message, StringComparison.Ordinal);
    }

    private static List<string> Listing(string directory) =>
        [.. Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Select(p => p[directory.Length..]).Order(StringComparer.Ordinal)];

    [Fact(Timeout = 180_000)]
    public async Task Files_the_container_made_unreadable_to_the_caller_are_committed_also_without_root()
    {
        await ImportAsync();

        // A file of another container user with mode 000, a directory of the container's root with mode 000: without
        // root, the caller may neither read the first (a subordinate id owns it) nor search the second on the host.
        await using var container = await RunToEndAsync(
            "echo secret > /secret; busybox chown 1000:1000 /secret; busybox chmod 000 /secret; busybox mkdir /locked; echo x > /locked/f; "
            + "busybox ln -s f /locked/link; busybox ln -s /etc/shadow /locked/escape; busybox mkdir /locked/sub; echo y > /locked/sub/g; "
            + "busybox chmod 000 /locked/sub /locked");
        if (!Requires.IsRoot)
        {
            Assert.ThrowsAny<UnauthorizedAccessException>(() => Directory.GetFiles(Path.Combine(container.State.ContainerDirectory!, "upper", "locked")));
        }

        var diff = (await container.DiffAsync(Ct)).Select(c => c.ToString()).ToList();
        Assert.Contains("A /locked/sub/g", diff);
        Assert.Contains("A /secret", diff);

        var committed = await container.CommitAsync("unreadable:1", cancellationToken: Ct);

        // Modes and owners as the layer records them (a rootless store shows every file as the container's root's).
        string blob = Path.Combine(_store.Root, "blobs", "sha256", committed.Manifest.Layers[^1].Digest.Hex);
        string listing = await ImageFixtures.RunAsync("tar", "--numeric-owner", "-tvzf", blob);
        Assert.Matches(@"(?m)^---------- 1000/1000 .* secret$", listing);
        Assert.Matches(@"(?m)^d--------- 0/0 .* locked/$", listing);
        Assert.Matches(@"(?m)^d--------- 0/0 .* locked/sub/$", listing);
        Assert.Matches(@"(?m)^lrwxrwxrwx 0/0 .* locked/link -> f$", listing);

        // Opened in the namespace without following it: a link out of the root stays a link, the host file unread.
        Assert.Matches(@"(?m)^lrwxrwxrwx 0/0 .* locked/escape -> /etc/shadow$", listing);
        var result = await _runtime.RunFromImageAsync(
            committed, new ImageContainerOptions { Command = ["-c", "cat /secret /locked/f /locked/link /locked/sub/g"] }, Ct);
        Assert.Equal((0, "secret\nx\nx\ny\n"), (result.ExitCode, result.Stdout));
    }

    [Fact(Timeout = 180_000)]
    public async Task An_owner_the_container_gives_a_file_of_its_image_is_what_a_commit_records_also_without_root()
    {
        await ImportAsync();

        // The first commit's layer gives /srv/owned to 1000. Without root the snapshot records that owner in
        // user.rootlesscontainers, which overlay copies up with the file: the second container's chown must win.
        await using (var first = await RunToEndAsync("echo x > /srv/owned; busybox chown 1000:1000 /srv/owned"))
        {
            await first.CommitAsync("owned:1", cancellationToken: Ct);
        }

        await using var second = await _runtime.CreateFromImageAsync(
            null, "owned:1", new ImageContainerOptions { Command = ["-c", "busybox chown 33:33 /srv/owned; echo y >> /srv/owned"], Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null } }, Ct);
        await second.StartAsync(Ct);
        Assert.Equal(0, (await second.WaitAsync(Ct)).ExitCode);
        var committed = await second.CommitAsync("owned:2", cancellationToken: Ct);

        string blob = Path.Combine(_store.Root, "blobs", "sha256", committed.Manifest.Layers[^1].Digest.Hex);
        Assert.Matches(@"(?m)^-rw-r--r-- 33/33 .* srv/owned$", await ImageFixtures.RunAsync("tar", "--numeric-owner", "-tvzf", blob));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_zstd_commit_is_an_oci_zstd_layer_that_zstd_skopeo_and_a_new_container_read()
    {
        string zstd = Requires.Tool("zstd");
        string skopeo = Requires.Tool("skopeo");
        await ImportAsync();
        await using var container = await RunToEndAsync("busybox rm /etc/motd; busybox mkdir /opt; busybox seq 1 20000 > /opt/numbers");

        var committed = await container.CommitAsync("zstd:1", new CommitOptions { Compression = LayerCompressionFormat.Zstd }, cancellationToken: Ct);

        var layer = committed.Manifest.Layers[^1];
        Assert.Equal("application/vnd.oci.image.layer.v1.tar+zstd", layer.MediaType);
        var blob = Path.Combine(_store.Root, "blobs", "sha256", layer.Digest.Hex);
        await ImageFixtures.RunAsync(zstd, "-t", "-q", blob);
        var decompressed = _temp.Combine("layer.tar");
        await ImageFixtures.RunAsync(zstd, "-d", "-q", "-o", decompressed, blob);
        var entries = await ImageFixtures.RunAsync("tar", "-tf", decompressed);
        Assert.Contains("opt/numbers", entries.Split('\n'));
        Assert.Contains("etc/.wh.motd", entries.Split('\n'));
        Assert.Equal(committed.Config.RootFS.DiffIds[^1].ToString(), "sha256:" + (await ImageFixtures.RunAsync("sha256sum", decompressed)).Split(' ')[0]);
        string exported = _temp.Combine("exported");
        await _store.ExportAsync("zstd:1", exported, ImageArchiveFormat.OciLayout, Ct);
        var inspected = JsonDocument.Parse(await ImageFixtures.RunAsync(skopeo, "inspect", "--raw", $"oci:{exported}:docker.io/library/zstd:1")).RootElement;
        Assert.Equal("application/vnd.oci.image.layer.v1.tar+zstd", inspected.GetProperty("layers")[committed.Manifest.Layers.Count - 1].GetProperty("mediaType").GetString());
        var rerun = await _runtime.RunFromImageAsync("zstd:1", new ImageContainerOptions { Command = ["-c", "busybox tail -n 1 /opt/numbers; test -e /etc/motd || echo no motd"] }, Ct);
        Assert.Equal((0, "20000\nno motd\n"), (rerun.ExitCode, rerun.Stdout));
    }
}
