using System.Runtime.Versioning;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// <c>CopyToAsync</c> and <c>CopyFromAsync</c> on running containers: trees round-trip, links are copied and never
/// followed out of the container's root, also while the container swaps a directory for a link (CVE-2018-15664).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ContainerCopyTests : IAsyncLifetime
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
        _runtime = await ContainerRuntime.OpenAsync(
            new ContainerRuntimeOptions { StateDirectory = state, StorageDirectory = _temp.Combine("containers"), Images = _store }, Ct);
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await _store.ImportAsync(layout, "copy:1", progress: null, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _store.DisposeAsync();
        _temp.Dispose();
    }

    /// <summary>Starts a container that runs <paramref name="setup"/>, writes /ready, then runs <paramref name="script"/>; waits until /ready can be copied out.</summary>
    private async Task<Container> StartAsync(string setup, string script)
    {
        var container = await _runtime.CreateFromImageAsync(
            null, "copy:1", new ImageContainerOptions { Command = ["-c", setup + " echo ready > /ready; " + script], Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null } }, Ct);
        await container.StartAsync(Ct);
        var probe = _temp.Combine("ready-" + container.Id);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await container.CopyFromAsync("/ready", probe, Ct);
                return container;
            }
            catch (ContainersIOException) when (attempt < 200)
            {
                await Task.Delay(50, Ct);
            }
        }
    }

    private static async Task<string> ExecAsync(Container container, string script)
    {
        await using var exec = await container.ExecAsync(["sh", "-c", script], Ct);
        var result = await exec.CollectAsync(Ct);
        Assert.Equal("", result.Stderr);
        return result.Stdout;
    }

    [Fact(Timeout = 120_000)]
    public async Task A_tree_copied_into_a_running_container_and_back_keeps_contents_modes_and_links()
    {
        var source = _temp.Combine("tree");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(source, "file"), "content\n", Ct);
        File.SetUnixFileMode(Path.Combine(source, "file"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        await File.WriteAllTextAsync(Path.Combine(source, "sub", "deep"), "deep\n", Ct);
        File.CreateSymbolicLink(Path.Combine(source, "abs"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(source, "up"), "../../../../");
        await using var container = await StartAsync("", "exec sleep 60");

        await container.CopyToAsync(source, "/data", Ct);
        await container.CopyToAsync(Path.Combine(source, "file"), "/etc", Ct);
        var inside = await ExecAsync(container, "cat /data/file /data/sub/deep /etc/file; stat -c '%a %u' /data/file; busybox readlink /data/abs; busybox readlink /data/up; id -u");
        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);
        await container.CopyFromAsync("/data", back, Ct);
        await container.CopyFromAsync("/etc/passwd", Path.Combine(back, "passwd"), Ct);

        Assert.Equal("content\ndeep\ncontent\n640 0\n/etc/passwd\n../../../../\n0\n", inside);
        Assert.Equal("content\n", await File.ReadAllTextAsync(Path.Combine(back, "data", "file"), Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(back, "data", "file")));
        Assert.Equal("deep\n", await File.ReadAllTextAsync(Path.Combine(back, "data", "sub", "deep"), Ct));
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(back, "data", "abs")).LinkTarget);
        Assert.Equal("../../../../", new FileInfo(Path.Combine(back, "data", "up")).LinkTarget);
        Assert.Contains("app:x:1234:2000", await File.ReadAllTextAsync(Path.Combine(back, "passwd"), Ct), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Links_to_the_root_and_climbing_out_resolve_inside_the_container_and_a_link_in_the_way_is_refused()
    {
        var marker = "copy-marker-" + Guid.NewGuid().ToString("N")[..8];
        var payload = _temp.Combine("payload");
        await File.WriteAllTextAsync(payload, "payload\n", Ct);
        var hostTree = _temp.Combine("tree");
        Directory.CreateDirectory(Path.Combine(hostTree, "sub"));
        await File.WriteAllTextAsync(Path.Combine(hostTree, "sub", "tree-" + marker), "x\n", Ct);
        await using var container = await StartAsync(
            "busybox ln -s / /to-root; busybox ln -s ../../../../../../ /up; busybox mkdir -p /dst/tree /dir; busybox ln -s / /dst/tree/sub; busybox ln -s / /dir/link;",
            "exec sleep 60");

        await container.CopyToAsync(payload, $"/to-root/{marker}", Ct);
        await container.CopyToAsync(payload, $"/up/etc/{marker}", Ct);
        var passwd = _temp.Combine("passwd");
        await container.CopyFromAsync("/up/up/etc/passwd", passwd, Ct);
        var linkInTheWay = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyToAsync(hostTree, "/dst", Ct));
        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);
        await container.CopyFromAsync("/dir", back, Ct);
        var inside = await ExecAsync(container, $"cat /{marker} /etc/{marker}; ls / | grep -c tree-{marker}");

        Assert.False(File.Exists("/" + marker));
        Assert.False(File.Exists("/etc/" + marker));
        Assert.False(File.Exists("/tree-" + marker));
        Assert.Contains("app:x:1234:2000", await File.ReadAllTextAsync(passwd, Ct), StringComparison.Ordinal);
        Assert.Contains("symbolic link", linkInTheWay.Message, StringComparison.Ordinal);
        Assert.Equal("payload\npayload\n0\n", inside);
        Assert.Equal("/", new FileInfo(Path.Combine(back, "dir", "link")).LinkTarget);
        Assert.Single(Directory.GetFileSystemEntries(Path.Combine(back, "dir")));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_container_swapping_a_directory_for_a_link_to_a_host_path_never_makes_a_copy_reach_the_host()
    {
        // On the host the link's target holds "HOST"; inside the container the same path does not exist. A copy that
        // followed the link on the host would read that file or write beside it.
        var hostSide = _temp.Combine("host-side");
        Directory.CreateDirectory(hostSide);
        await File.WriteAllTextAsync(Path.Combine(hostSide, "f"), "HOST\n", Ct);
        var payload = _temp.Combine("payload");
        await File.WriteAllTextAsync(payload, "payload\n", Ct);
        await using var container = await StartAsync(
            $"busybox mkdir -p /w/dir; echo inside > /w/dir/f; busybox ln -s ../../../../..{hostSide} /w/lnk;",
            "while :; do busybox mv /w/dir /w/tmp; busybox mv /w/lnk /w/dir; busybox mv /w/dir /w/lnk; busybox mv /w/tmp /w/dir; done");

        var (read, missing, written) = (0, 0, 0);
        var output = _temp.Combine("out");
        for (var i = 0; i < 300; i++)
        {
            try
            {
                File.Delete(output);
                await container.CopyFromAsync("/w/dir/f", output, Ct);
                Assert.Equal("inside\n", await File.ReadAllTextAsync(output, Ct));
                read++;
            }
            catch (ContainersIOException e) when (e.Message.Contains("ENOENT", StringComparison.Ordinal))
            {
                missing++;
            }

            try
            {
                await container.CopyToAsync(payload, $"/w/dir/p{i}", Ct);
                written++;
            }
            catch (ContainersIOException e) when (e.Message.Contains("ENOENT", StringComparison.Ordinal))
            {
                missing++;
            }
        }

        Assert.Equal(["f"], Directory.GetFileSystemEntries(hostSide).Select(Path.GetFileName));
        Assert.Equal("HOST\n", await File.ReadAllTextAsync(Path.Combine(hostSide, "f"), Ct));
        Assert.True(read > 0 && written > 0, $"the copies never met the directory: {read} read, {written} written, {missing} missing");
        Assert.True(missing > 0, $"the copies never met the link: {read} read, {written} written");
        Assert.Equal(ContainerStatus.Running, container.Status);
    }

    /// <summary>Creates a container that runs <paramref name="script"/>, starts it and waits until it has exited.</summary>
    private async Task<Container> RunToEndAsync(string script, IReadOnlyList<VolumeMount>? volumes = null)
    {
        var container = await _runtime.CreateFromImageAsync(
            null, "copy:1", new ImageContainerOptions { Command = ["-c", script], Volumes = volumes ?? [], Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null } }, Ct);
        await container.StartAsync(Ct);
        Assert.Equal(0, (await container.WaitAsync(Ct)).ExitCode);
        Assert.Equal(ContainerStatus.Stopped, container.Status);
        return container;
    }

    [Fact(Timeout = 180_000)]
    public async Task A_stopped_container_is_copied_from_and_into_through_its_layers_and_volumes_without_running_anything()
    {
        var volume = "copy-" + Guid.NewGuid().ToString("N")[..8];
        await using var container = await RunToEndAsync(
            "echo made > /made; busybox rm /etc/group; echo kept > /cache/kept; busybox ln -s ../../../../etc/passwd /up",
            [new VolumeMount(volume, "/cache")]);
        var payload = _temp.Combine("payload");
        await File.WriteAllTextAsync(payload, "payload\n", Ct);
        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);

        await container.CopyFromAsync("/made", Path.Combine(back, "made"), Ct);
        await container.CopyFromAsync("/etc/passwd", Path.Combine(back, "passwd"), Ct);
        await container.CopyFromAsync("/cache/kept", Path.Combine(back, "kept"), Ct);
        await container.CopyFromAsync("/up", Path.Combine(back, "up"), Ct);
        var deleted = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyFromAsync("/etc/group", Path.Combine(back, "group"), Ct));
        await container.CopyToAsync(payload, "/etc", Ct);
        await container.CopyToAsync(payload, "/cache/in-volume", Ct);
        await container.CopyFromAsync("/etc/payload", Path.Combine(back, "payload-again"), Ct);
        var diff = await container.DiffAsync(Ct);
        var volumeDirectory = (await _runtime.ListVolumesAsync(Ct)).Single(v => v.Name == volume).Mountpoint;

        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(back, "made"), Ct));
        Assert.Contains("app:x:1234:2000", await File.ReadAllTextAsync(Path.Combine(back, "passwd"), Ct), StringComparison.Ordinal);
        Assert.Equal("kept\n", await File.ReadAllTextAsync(Path.Combine(back, "kept"), Ct));
        Assert.Equal("../../../../etc/passwd", new FileInfo(Path.Combine(back, "up")).LinkTarget);
        Assert.Contains("ENOENT", deleted.Message, StringComparison.Ordinal);
        Assert.Equal("payload\n", await File.ReadAllTextAsync(Path.Combine(back, "payload-again"), Ct));
        Assert.Equal("payload\n", await File.ReadAllTextAsync(Path.Combine(volumeDirectory, "in-volume"), Ct));
        Assert.Contains("A /etc/payload", diff.Select(c => c.ToString()));
        Assert.Contains("D /etc/group", diff.Select(c => c.ToString()));
        Assert.DoesNotContain(diff, c => c.Path.StartsWith("/cache/", StringComparison.Ordinal));
        Assert.Equal(ContainerStatus.Stopped, container.Status);
    }

    [Fact(Timeout = 180_000)]
    public async Task Copies_into_one_stopped_container_at_once_all_land_and_a_commit_after_them_has_them()
    {
        await using var container = await RunToEndAsync("busybox mkdir /in");
        var sources = Enumerable.Range(0, 4).Select(i => _temp.Combine($"file{i}")).ToArray();
        for (var i = 0; i < sources.Length; i++)
        {
            await File.WriteAllTextAsync(sources[i], $"file {i}\n", Ct);
        }

        await Task.WhenAll(sources.Select(source => container.CopyToAsync(source, "/in", Ct)));
        var committed = await container.CommitAsync("copy:committed", cancellationToken: Ct);
        var result = await _runtime.RunFromImageAsync(committed, new ImageContainerOptions { Command = ["-c", "busybox cat /in/file0 /in/file1 /in/file2 /in/file3"] }, Ct);

        Assert.Equal((0, "file 0\nfile 1\nfile 2\nfile 3\n"), (result.ExitCode, result.Stdout));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stopped_container_without_a_root_of_its_own_cannot_be_copied_from_and_says_why()
    {
        var container = await _runtime.CreateAsync(null, Spec.ContainerSpec.For("/bin/true"), new ContainerCreateOptions { Stdio = ContainerStdio.Null }, Ct);
        await using (container)
        {
            await container.StartAsync(Ct);
            await container.WaitAsync(Ct);

            var error = await Assert.ThrowsAsync<ContainerStatusException>(() => container.CopyFromAsync("/etc/passwd", _temp.Combine("x"), Ct));

            Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
            Assert.Contains("no root of its own", error.Message, StringComparison.Ordinal);
        }
    }
}
