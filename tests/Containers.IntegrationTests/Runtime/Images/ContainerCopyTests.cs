using System.Runtime.Versioning;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
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
    private readonly CapturingLoggerFactory _loggers = new();
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;
    private ImageRuntime _images = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _images = await ImageRuntime.OpenAsync(_temp, Ct, _loggers);
        (_store, _runtime) = (_images.Store, _images.Runtime);
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await _store.ImportAsync(layout, "copy:1", progress: null, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _images.DisposeAsync();
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
                await container.CopyFromAsync("/ready", probe, cancellationToken: Ct);
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

        await container.CopyToAsync(source, "/data", cancellationToken: Ct);
        await container.CopyToAsync(Path.Combine(source, "file"), "/etc", cancellationToken: Ct);
        var inside = await ExecAsync(container, "cat /data/file /data/sub/deep /etc/file; stat -c '%a %u' /data/file; busybox readlink /data/abs; busybox readlink /data/up; id -u");
        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);
        await container.CopyFromAsync("/data", back, cancellationToken: Ct);
        await container.CopyFromAsync("/etc/passwd", Path.Combine(back, "passwd"), cancellationToken: Ct);

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

        await container.CopyToAsync(payload, $"/to-root/{marker}", cancellationToken: Ct);
        await container.CopyToAsync(payload, $"/up/etc/{marker}", cancellationToken: Ct);
        var passwd = _temp.Combine("passwd");
        await container.CopyFromAsync("/up/up/etc/passwd", passwd, cancellationToken: Ct);
        var linkInTheWay = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyToAsync(hostTree, "/dst", cancellationToken: Ct));
        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);
        await container.CopyFromAsync("/dir", back, cancellationToken: Ct);
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

        // 300 rounds at least, and on until the copies have met both the directory and the link: on a loaded machine
        // the swapping loop can sit for long in one state, and a run that never met one of them proves nothing.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        for (var i = 0; i < 300 || ((read == 0 || written == 0 || missing == 0) && DateTime.UtcNow < deadline); i++)
        {
            try
            {
                File.Delete(output);
                await container.CopyFromAsync("/w/dir/f", output, cancellationToken: Ct);
                Assert.Equal("inside\n", await File.ReadAllTextAsync(output, Ct));
                read++;
            }
            catch (ContainersIOException e) when (e.Message.Contains("ENOENT", StringComparison.Ordinal))
            {
                missing++;
            }

            try
            {
                await container.CopyToAsync(payload, $"/w/dir/p{i}", cancellationToken: Ct);
                written++;
            }
            catch (ContainersIOException e) when (e.Message.Contains("ENOENT", StringComparison.Ordinal))
            {
                missing++;
            }
        }

        Assert.Equal(["f"], Directory.GetFileSystemEntries(hostSide).Select(Path.GetFileName));
        Assert.Equal("HOST\n", await File.ReadAllTextAsync(Path.Combine(hostSide, "f"), Ct));
        var w = read > 0 && written > 0 ? "" : await ExecAsync(container, "busybox ls -la /w /w/dir 2>&1");
        Assert.True(read > 0 && written > 0, $"the copies never met the directory: {read} read, {written} written, {missing} missing; /w now: {w}");
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

        await container.CopyFromAsync("/made", Path.Combine(back, "made"), cancellationToken: Ct);
        await container.CopyFromAsync("/etc/passwd", Path.Combine(back, "passwd"), cancellationToken: Ct);
        await container.CopyFromAsync("/cache/kept", Path.Combine(back, "kept"), cancellationToken: Ct);
        await container.CopyFromAsync("/up", Path.Combine(back, "up"), cancellationToken: Ct);
        var deleted = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyFromAsync("/etc/group", Path.Combine(back, "group"), cancellationToken: Ct));
        await container.CopyToAsync(payload, "/etc", cancellationToken: Ct);
        await container.CopyToAsync(payload, "/cache/in-volume", cancellationToken: Ct);
        await container.CopyFromAsync("/etc/payload", Path.Combine(back, "payload-again"), cancellationToken: Ct);
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

        await Task.WhenAll(sources.Select(source => container.CopyToAsync(source, "/in", cancellationToken: Ct)));
        var committed = await container.CommitAsync("copy:committed", cancellationToken: Ct);
        var result = await _runtime.RunFromImageAsync(committed, new ImageContainerOptions { Command = ["-c", "busybox cat /in/file0 /in/file1 /in/file2 /in/file3"] }, Ct);

        Assert.Equal((0, "file 0\nfile 1\nfile 2\nfile 3\n"), (result.ExitCode, result.Stdout));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_removal_waits_for_a_copy_into_the_stopped_container_and_a_copy_after_it_finds_it_gone()
    {
        var container = await RunToEndAsync("busybox mkdir /in");
        var directory = container.State.ContainerDirectory!;
        using var archive = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(archive, leaveOpen: true))
        {
            var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "big") { DataStream = new MemoryStream(new byte[4 << 20]) };
            await writer.WriteEntryAsync(entry, Ct);
        }

        archive.Position = 0;
        var input = new GatedStream(archive, openAfter: 1 << 20);
        var copy = container.CopyArchiveToAsync(input, "/in", cancellationToken: Ct);
        await input.Reached.WaitAsync(Ct);
        await using var other = await _runtime.GetAsync(container.Id, Ct);

        var removal = other.DeleteAsync(Ct);
        var first = await Task.WhenAny(removal, copy, Task.Delay(TimeSpan.FromSeconds(3), Ct));
        input.Open();
        await copy;
        await removal;
        var after = await Assert.ThrowsAsync<ContainerNotFoundException>(() => _runtime.GetAsync(container.Id, Ct));
        var late = await Assert.ThrowsAsync<ContainerStatusException>(() => container.CopyToAsync(_temp.Combine("image"), "/in", cancellationToken: Ct));
        await container.DisposeAsync();

        Assert.False(first == removal, "the removal did not wait for the copy holding the stopped container's root");
        Assert.False(Directory.Exists(directory));
        Assert.Contains("gone", late.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(directory, await File.ReadAllTextAsync("/proc/self/mountinfo", Ct), StringComparison.Ordinal);
    }

    /// <summary>A read-only stream that stops after <c>openAfter</c> bytes (saying so through <see cref="Reached"/>) until <see cref="Open"/> is called.</summary>
    private sealed class GatedStream(Stream inner, long openAfter) : Stream
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _read;

        public Task Reached => _reached.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public void Open() => _open.TrySetResult();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= openAfter)
            {
                _reached.TrySetResult();
                await _open.Task.WaitAsync(cancellationToken);
            }

            var n = await inner.ReadAsync(_read < openAfter ? buffer[..(int)Math.Min(buffer.Length, openAfter - _read)] : buffer, cancellationToken);
            _read += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Every entry below <paramref name="path"/> in the container: name, owner, mode and a file's content, in name order.</summary>
    private static async Task<List<(string Name, int Uid, int Gid, UnixFileMode Mode, string? Content)>> ListAsync(Container container, string path)
    {
        var tar = new MemoryStream();
        await container.CopyArchiveFromAsync(path, tar, cancellationToken: Ct);
        tar.Position = 0;
        var entries = new List<(string Name, int Uid, int Gid, UnixFileMode Mode, string? Content)>();
        await using (var reader = new System.Formats.Tar.TarReader(tar))
        {
            while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                entries.Add((entry.Name, entry.Uid, entry.Gid, entry.Mode, entry.DataStream is null ? null : await new StreamReader(entry.DataStream).ReadToEndAsync(Ct)));
            }
        }

        return [.. entries.OrderBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>A tar stream of <paramref name="entries"/> (a name ending in '/' is a directory, a null content a link to <c>tool</c>).</summary>
    private static async Task<MemoryStream> ArchiveAsync(params (string Name, int Uid, string? Content)[] entries)
    {
        var archive = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(archive, leaveOpen: true))
        {
            foreach (var (name, uid, content) in entries)
            {
                var type = name.EndsWith('/') ? System.Formats.Tar.TarEntryType.Directory
                    : content is null ? System.Formats.Tar.TarEntryType.SymbolicLink : System.Formats.Tar.TarEntryType.RegularFile;
                var entry = new System.Formats.Tar.PaxTarEntry(type, name) { Uid = uid, Gid = uid, Mode = type == System.Formats.Tar.TarEntryType.Directory ? (UnixFileMode)0x1c0 : (UnixFileMode)0x1a4 };
                if (type == System.Formats.Tar.TarEntryType.RegularFile)
                {
                    entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content!));
                }
                else if (type == System.Formats.Tar.TarEntryType.SymbolicLink)
                {
                    entry.LinkName = "tool";
                }

                await writer.WriteEntryAsync(entry, Ct);
            }
        }

        archive.Position = 0;
        return archive;
    }

    [Fact(Timeout = 180_000)]
    public async Task A_tree_copy_that_fails_partway_removes_what_it_made_and_puts_back_what_it_replaced()
    {
        // Entries are copied in name order: a-file replaces an existing file, b-dir and c-file are new, then z-sub
        // meets a link in the container and the copy fails.
        var tree = _temp.Combine("tree");
        Directory.CreateDirectory(Path.Combine(tree, "b-dir", "deep"));
        Directory.CreateDirectory(Path.Combine(tree, "z-sub"));
        await File.WriteAllTextAsync(Path.Combine(tree, "a-file"), "new\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(tree, "b-dir", "deep", "f"), "deep\n", Ct);
        File.SetUnixFileMode(Path.Combine(tree, "b-dir", "deep"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(tree, "c-file"), "c\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(tree, "z-sub", "f"), "z\n", Ct);
        await using var container = await RunToEndAsync("busybox mkdir -p /dst/tree; echo old > /dst/tree/a-file; busybox ln -s / /dst/tree/z-sub");
        var before = await ListAsync(container, "/dst");
        var diffBefore = (await container.DiffAsync(Ct)).Select(c => c.ToString()).ToList();

        var plain = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyToAsync(tree, "/dst", cancellationToken: Ct));
        var afterPlain = await ListAsync(container, "/dst");
        var kept = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyToAsync(tree, "/dst", new ContainerCopyOptions { KeepOwners = true }, Ct));
        var afterKept = await ListAsync(container, "/dst");
        var diffAfter = (await container.DiffAsync(Ct)).Select(c => c.ToString()).ToList();
        File.SetUnixFileMode(Path.Combine(tree, "b-dir", "deep"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Assert.Contains("symbolic link", plain.Message, StringComparison.Ordinal);
        Assert.Contains("symbolic link", kept.Message, StringComparison.Ordinal);
        Assert.Contains(before, e => e.Name == "dst/tree/a-file" && e.Content == "old\n");
        Assert.Equal(before, afterPlain);
        Assert.Equal(before, afterKept);
        Assert.Equal(diffBefore, diffAfter);
    }

    /// <summary>A host tree <c>tree</c> (mode 0755: <c>a</c>, <c>sub/f</c>, mode 0644, and <c>lnk</c> to <c>a</c>) and a file <c>replacement</c> ("new").</summary>
    private async Task<(string Tree, string Replacement)> TreeAndReplacementAsync()
    {
        var tree = _temp.Combine("tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        await File.WriteAllTextAsync(Path.Combine(tree, "a"), "a\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(tree, "sub", "f"), "f\n", Ct);
        File.CreateSymbolicLink(Path.Combine(tree, "lnk"), "a");
        var replacement = _temp.Combine("replacement");
        await File.WriteAllTextAsync(replacement, "new\n", Ct);
        foreach (var file in new[] { Path.Combine(tree, "a"), Path.Combine(tree, "sub", "f"), replacement })
        {
            File.SetUnixFileMode(file, (UnixFileMode)0x1a4);
        }

        File.SetUnixFileMode(tree, (UnixFileMode)0x1ed);
        return (tree, replacement);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_directory_only_another_container_user_may_write_to_takes_copies_in_and_a_failed_one_leaves_it_as_it_was()
    {
        // Rootless, /home/u belongs to a subordinate id: the caller may read and search it but not write to it. The
        // copies make their entries in a stage there and rename them into place in the container's user namespace.
        await using var container = await RunToEndAsync(
            "busybox mkdir -p /home/u; echo old > /home/u/existing; busybox chown -R 1000:1000 /home/u; busybox chmod 755 /home/u; busybox chmod 644 /home/u/existing");
        var (tree, replacement) = await TreeAndReplacementAsync();
        var keep = new ContainerCopyOptions { KeepOwners = true };

        await container.CopyToAsync(tree, "/home/u", cancellationToken: Ct);
        await container.CopyToAsync(replacement, "/home/u/existing", cancellationToken: Ct);
        await container.CopyArchiveToAsync(await OwnedArchiveAsync("in", 1000, 1000), "/home/u", keep, Ct);
        var before = await ListAsync(container, "/home/u");
        var late = await Record.ExceptionAsync(async () => await container.CopyArchiveToAsync(
            await ArchiveAsync(("made", 1000, "made\n"), ("existing", 1000, "late\n"), ("made-dir/", 1000, ""), ("made-dir/f", 1000, "f\n"), ("far", 70000, "far\n")), "/home/u", keep, Ct));
        var after = await ListAsync(container, "/home/u");

        Assert.Contains(("u/tree/", 0, 0, (UnixFileMode)0x1ed, (string?)null), before);
        Assert.Contains(("u/tree/a", 0, 0, (UnixFileMode)0x1a4, (string?)"a\n"), before);
        Assert.Contains(("u/tree/sub/f", 0, 0, (UnixFileMode)0x1a4, (string?)"f\n"), before);
        Assert.Contains(before, e => e.Name == "u/tree/lnk");
        Assert.Contains(("u/existing", 0, 0, (UnixFileMode)0x1a4, (string?)"new\n"), before);
        Assert.Contains(("u/in/tool", 1000, 1000, (UnixFileMode)0x9ed, (string?)"tool\n"), before);
        Assert.Contains(("u/", 1000, 1000, (UnixFileMode)0x1ed, (string?)null), before);
        Assert.DoesNotContain(before, e => e.Name.Contains(".cp-", StringComparison.Ordinal));
        if (Requires.IsRoot)
        {
            // Without a user namespace every id is the container's own: 70000 is kept and the archive lands whole.
            Assert.Null(late);
            Assert.Contains(("u/far", 70000, 70000, (UnixFileMode)0x1a4, (string?)"far\n"), after);
            return;
        }

        // Refused after a file, a replacement and a directory were put in place: all undone, the stage gone.
        Assert.IsType<CopyOwnerException>(late);
        Assert.Equal(before, after);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_directory_only_another_container_user_may_search_takes_copies_in_and_a_failed_one_leaves_it_as_it_was()
    {
        // Rootless, /home/u and /home/u/deep (mode 0700 of uid 1000, a subordinate id) cannot even be searched by
        // the caller: they are opened in the container's user namespace, and entries go in through stages.
        await using var container = await RunToEndAsync(
            "busybox mkdir -p /home/u/deep; echo old > /home/u/existing; busybox ln -s deep /home/u/ln; busybox chown -hR 1000:1000 /home/u; busybox chmod 700 /home/u /home/u/deep; busybox chmod 600 /home/u/existing");
        var (tree, replacement) = await TreeAndReplacementAsync();
        var keep = new ContainerCopyOptions { KeepOwners = true };

        await container.CopyToAsync(tree, "/home/u", cancellationToken: Ct);
        await container.CopyToAsync(tree, "/home/u/deep/renamed", cancellationToken: Ct);
        await container.CopyToAsync(replacement, "/home/u/existing", cancellationToken: Ct);
        await container.CopyArchiveToAsync(await OwnedArchiveAsync("in", 1000, 1000), "/home/u/deep", keep, Ct);
        var throughLink = await Record.ExceptionAsync(async () => await container.CopyToAsync(replacement, "/home/u/ln", cancellationToken: Ct));
        var before = await ListAsync(container, "/home/u");
        var late = await Record.ExceptionAsync(async () => await container.CopyArchiveToAsync(
            await ArchiveAsync(("made", 1000, "made\n"), ("existing", 1000, "late\n"), ("made-dir/", 1000, ""), ("made-dir/f", 1000, "f\n"), ("deep/in/tool", 1000, "late\n"), ("far", 70000, "far\n")), "/home/u", keep, Ct));
        var after = await ListAsync(container, "/home/u");

        Assert.Contains(("u/tree/", 0, 0, (UnixFileMode)0x1ed, (string?)null), before);
        Assert.Contains(("u/tree/a", 0, 0, (UnixFileMode)0x1a4, (string?)"a\n"), before);
        Assert.Contains(("u/tree/sub/f", 0, 0, (UnixFileMode)0x1a4, (string?)"f\n"), before);
        Assert.Contains(before, e => e.Name == "u/tree/lnk");
        Assert.Contains(("u/deep/renamed/sub/f", 0, 0, (UnixFileMode)0x1a4, (string?)"f\n"), before);
        Assert.Contains(("u/existing", 0, 0, (UnixFileMode)0x1a4, (string?)"new\n"), before);
        Assert.Contains(("u/deep/in/tool", 1000, 1000, (UnixFileMode)0x9ed, (string?)"tool\n"), before);
        Assert.Contains(("u/", 1000, 1000, (UnixFileMode)0x1c0, (string?)null), before);
        Assert.Contains(("u/deep/", 1000, 1000, (UnixFileMode)0x1c0, (string?)null), before);
        Assert.DoesNotContain(before, e => e.Name.Contains(".cp-", StringComparison.Ordinal));
        if (Requires.IsRoot)
        {
            Assert.Null(throughLink);
            Assert.Contains(("u/deep/replacement", 0, 0, (UnixFileMode)0x1a4, (string?)"new\n"), before);
            Assert.Null(late);
            Assert.Contains(("u/deep/in/tool", 1000, 1000, (UnixFileMode)0x1a4, (string?)"late\n"), after);
            return;
        }

        // A link there would be followed only as the container's root: refused, not replaced.
        Assert.Contains("symbolic link", Assert.IsType<ContainersIOException>(throughLink).Message, StringComparison.Ordinal);
        Assert.Contains(before, e => e.Name == "u/ln");
        Assert.DoesNotContain(before, e => e.Name == "u/deep/replacement");

        // Refused at its last entry, after entries were made and replaced in both directories: all undone.
        Assert.IsType<CopyOwnerException>(late);
        Assert.Equal(before, after);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_running_container_takes_a_copy_into_a_directory_only_another_of_its_users_may_write_to()
    {
        await using var container = await StartAsync(
            "busybox mkdir -p /srv/data; echo old > /srv/data/existing; busybox chown -R 1234:1234 /srv/data; busybox chmod 755 /srv/data;",
            "exec sleep 60");
        var source = _temp.Combine("config");
        await File.WriteAllTextAsync(source, "config\n", Ct);
        File.SetUnixFileMode(source, (UnixFileMode)0x1a4);

        await container.CopyToAsync(source, "/srv/data", cancellationToken: Ct);
        await container.CopyToAsync(source, "/srv/data/existing", cancellationToken: Ct);
        var inside = await ExecAsync(container, "busybox ls -A /srv/data; busybox cat /srv/data/config /srv/data/existing; busybox stat -c '%u %a' /srv/data/config /srv/data");
        var launches = _loggers.Events.Where(e => e.Id.Id == 1072 && Equals(e.Fields["ContainerId"], container.Id)).ToList();

        Assert.Equal("config\nexisting\nconfig\nconfig\n0 644\n1234 755\n", inside);
        if (!Requires.IsRoot)
        {
            // The stage and the renames into place ran in the container's user namespace.
            Assert.NotEmpty(launches);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_copy_that_fills_its_destination_says_which_entry_and_what_to_fix_and_leaves_nothing()
    {
        var container = await _runtime.CreateFromImageAsync(null, "copy:1", new ImageContainerOptions
        {
            Command = ["-c", "echo kept > /small/kept; echo ready > /ready; exec sleep 60"],
            Configure = spec => spec.WithTmpfs("/small", 256 << 10),
            Create = new ContainerCreateOptions { Stdio = ContainerStdio.Null },
        }, Ct);
        await using var running = container;
        await container.StartAsync(Ct);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await container.CopyFromAsync("/ready", _temp.Combine("ready"), cancellationToken: Ct);
                break;
            }
            catch (ContainersIOException) when (attempt < 200)
            {
                await Task.Delay(50, Ct);
            }
        }

        var tree = _temp.Combine("tree");
        Directory.CreateDirectory(tree);
        await File.WriteAllTextAsync(Path.Combine(tree, "a-small"), "small\n", Ct);
        await File.WriteAllBytesAsync(Path.Combine(tree, "big"), new byte[1 << 20], Ct);
        var before = await ListAsync(container, "/small");

        var copied = await Assert.ThrowsAsync<CopyWriteException>(() => container.CopyToAsync(tree, "/small", cancellationToken: Ct));
        var afterCopy = await ListAsync(container, "/small");
        var extracted = await Assert.ThrowsAsync<CopyWriteException>(async () => await container.CopyArchiveToAsync(
            await ArchiveAsync(("kept", 0, "replaced\n"), ("new", 0, new string('x', 1 << 20))), "/small", cancellationToken: Ct));
        var afterArchive = await ListAsync(container, "/small");

        Assert.Equal(("/small/tree/big", "ENOSPC"), (copied.Path, copied.ErrnoName));
        Assert.Contains("full", copied.Message, StringComparison.Ordinal);
        Assert.Contains("size=", copied.Message, StringComparison.Ordinal);
        Assert.Equal(("/small/new", "ENOSPC"), (extracted.Path, extracted.ErrnoName));
        Assert.Contains(before, e => e.Name == "small/kept" && e.Content == "kept\n");
        Assert.Equal(before, afterCopy);
        Assert.Equal(before, afterArchive);
    }

    [Fact(Timeout = 240_000)]
    public async Task Entries_a_running_container_removes_while_it_is_copied_from_are_left_out_and_the_copy_succeeds()
    {
        // Rootless, /many (mode 0700 of another container user) is read through its user namespace in batches of
        // opens; the container keeps making and removing t0..t99 meanwhile, so some listed entries are gone by the
        // time they are opened. Docker's archive writer leaves out what it can no longer add; so does the copy.
        await using var container = await StartAsync(
            "busybox mkdir /many; i=0; while [ $i -lt 300 ]; do echo $i > /many/f$i; i=$((i+1)); done; busybox chown -R 1234:5678 /many; busybox chmod 600 /many/*; busybox chmod 700 /many;",
            "while :; do i=0; while [ $i -lt 100 ]; do echo t > /many/t$i; i=$((i+1)); done; busybox rm -f /many/t*; done");
        var (copies, partial) = (0, 0);
        for (; copies < 200 && partial < 3; copies++)
        {
            var tar = new MemoryStream();
            await container.CopyArchiveFromAsync("/many", tar, cancellationToken: Ct);
            tar.Position = 0;
            var (stable, churned) = (0, 0);
            await using (var reader = new System.Formats.Tar.TarReader(tar))
            {
                while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
                {
                    var name = entry.Name["many/".Length..];
                    if (name.StartsWith('f'))
                    {
                        Assert.Equal(name[1..] + "\n", await new StreamReader(entry.DataStream!).ReadToEndAsync(Ct));
                        stable++;
                    }
                    else if (name.StartsWith('t'))
                    {
                        churned++;
                    }
                }
            }

            Assert.Equal(300, stable);
            partial += churned is > 0 and < 100 ? 1 : 0;
        }

        Assert.True(partial >= 3, $"no copy met the container's removals: {copies} copies");
    }

    [Fact(Timeout = 180_000)]
    public async Task An_archive_that_fails_late_leaves_nothing_of_itself_with_or_without_owners_kept()
    {
        await using var container = await RunToEndAsync("busybox mkdir -p /dst; echo old > /dst/existing");
        var before = await ListAsync(container, "/dst");
        var keep = new ContainerCopyOptions { KeepOwners = true };
        var climbing = await ArchiveAsync(("dst/in/", 1234, ""), ("dst/in/tool", 1234, "tool\n"), ("dst/in/link", 1234, null), ("dst/existing", 1234, "new\n"), ("dst/top", 1234, "top\n"), ("../climbed", 0, "x\n"));

        var climbed = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyArchiveToAsync(climbing, "/", keep, Ct));
        var afterClimbed = await ListAsync(container, "/dst");
        climbing.Position = 0;
        await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyArchiveToAsync(climbing, "/", cancellationToken: Ct));
        var afterPlain = await ListAsync(container, "/dst");
        var late = await Record.ExceptionAsync(async () => await container.CopyArchiveToAsync(
            await ArchiveAsync(("dst/late/", 1234, ""), ("dst/late/tool", 1234, "tool\n"), ("dst/existing", 1234, "late\n"), ("dst/late/far", 70000, "far\n")), "/", keep, Ct));
        var afterLate = await ListAsync(container, "/dst");

        Assert.Contains("'..'", climbed.Message, StringComparison.Ordinal);
        Assert.Equal(before, afterClimbed);
        Assert.Equal(before, afterPlain);
        if (Requires.IsRoot)
        {
            // Without a user namespace every id is the container's own: 70000 is kept and the archive lands whole.
            Assert.Null(late);
            Assert.Contains(("dst/late/far", 70000, 70000, (UnixFileMode)0x1a4, (string?)"far\n"), afterLate);
            Assert.Contains(afterLate, e => e.Name == "dst/existing" && e.Content == "late\n");
            return;
        }

        // The owner no mapping covers is found after three entries were made (owners given at the end, in the container's user namespace).
        var refused = Assert.IsType<CopyOwnerException>(late);
        Assert.Equal("/dst/late/far", refused.Path);
        Assert.Equal(before, afterLate);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_canceled_archive_copy_removes_what_it_made()
    {
        await using var container = await RunToEndAsync("busybox mkdir -p /dst; echo old > /dst/existing");
        var before = await ListAsync(container, "/dst");
        var archive = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(archive, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, "c/"), Ct);
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "existing") { DataStream = new MemoryStream("new\n"u8.ToArray()) }, Ct);
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "c/big") { DataStream = new MemoryStream(new byte[4 << 20]) }, Ct);
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "c/after") { DataStream = new MemoryStream("after\n"u8.ToArray()) }, Ct);
        }

        archive.Position = 0;
        var input = new GatedStream(archive, openAfter: 1 << 20);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var copy = container.CopyArchiveToAsync(input, "/dst", cancellationToken: cancel.Token);
        await input.Reached.WaitAsync(Ct);
        await cancel.CancelAsync();
        input.Open();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy);
        Assert.Equal(before, await ListAsync(container, "/dst"));
    }

    [Fact(Timeout = 180_000)]
    public async Task Follow_link_reaches_a_target_and_a_chain_of_links_only_the_containers_users_may_read()
    {
        await using var container = await RunToEndAsync(
            "busybox mkdir /private; echo secret > /private/f; busybox ln -s f /private/l2; busybox ln -s /private/f /lnk; busybox ln -s private/l2 /lnk2;"
            + " busybox chown -R 1234:5678 /private; busybox chmod 600 /private/f; busybox chmod 700 /private");
        var follow = new ContainerCopyOptions { FollowLink = true };
        var (first, second) = (_temp.Combine("first"), _temp.Combine("second"));

        await container.CopyFromAsync("/lnk", first, follow, Ct);
        await container.CopyFromAsync("/lnk2", second, follow, Ct);
        var tar = new MemoryStream();
        await container.CopyArchiveFromAsync("/lnk2", tar, follow, Ct);
        tar.Position = 0;
        var entry = await new System.Formats.Tar.TarReader(tar).GetNextEntryAsync(cancellationToken: Ct);

        Assert.Equal("secret\n", await File.ReadAllTextAsync(first, Ct));
        Assert.Equal("secret\n", await File.ReadAllTextAsync(second, Ct));
        Assert.Equal(("lnk2", System.Formats.Tar.TarEntryType.RegularFile, "secret\n"), (entry!.Name, entry.EntryType, await new StreamReader(entry.DataStream!).ReadToEndAsync(Ct)));
    }

    [Fact(Timeout = 180_000)]
    public async Task Entries_only_the_containers_users_may_read_are_opened_in_batches_not_one_child_each()
    {
        await using var container = await RunToEndAsync(
            "busybox mkdir /many; i=0; while [ $i -lt 300 ]; do echo $i > /many/f$i; i=$((i+1)); done;"
            + " busybox chown -R 1234:5678 /many; busybox chmod 600 /many/*; busybox chmod 700 /many");
        var back = _temp.Combine("many-back");
        Directory.CreateDirectory(back);

        await container.CopyFromAsync("/many", back, cancellationToken: Ct);

        var files = Directory.GetFiles(Path.Combine(back, "many"));
        Assert.Equal(300, files.Length);
        Assert.All(files, f => Assert.Equal(Path.GetFileName(f)[1..] + "\n", File.ReadAllText(f)));
        var launches = _loggers.Events.Where(e => e.Id.Id == 1072 && Equals(e.Fields["ContainerId"], container.Id)).Select(e => e.Fields["Count"]).ToList();
        if (Requires.IsRoot)
        {
            Assert.Empty(launches);
        }
        else
        {
            // One child opens the directory itself (mode 0700 of another user), then one per 256 of its entries.
            Assert.Equal([3], launches);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Entries_put_into_a_directory_only_another_container_user_may_write_to_are_renamed_in_batches_not_one_child_each()
    {
        // Rootless, each of the 300 entries is made in the stage of /home/u; one child renames up to 256 into place.
        await using var container = await RunToEndAsync(
            "busybox mkdir -p /home/u; for i in 0 1 2 3 4; do echo old > /home/u/f$i; done; busybox chown -R 1000:1000 /home/u; busybox chmod 755 /home/u");
        var tree = _temp.Combine("many");
        Directory.CreateDirectory(tree);
        for (var i = 0; i < 300; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(tree, $"f{i}"), $"{i}\n", Ct);
        }

        await container.CopyToAsync(tree + "/.", "/home/u", cancellationToken: Ct);

        var inside = await ListAsync(container, "/home/u");
        Assert.Equal([], inside.Select(e => e.Name).Where(n => !System.Text.RegularExpressions.Regex.IsMatch(n, "^u/(f[0-9]+)?$")));
        Assert.Equal(301, inside.Count);
        Assert.All(inside.Where(e => e.Name != "u/"), e => Assert.Equal(e.Name[3..] + "\n", e.Content));
        var launches = _loggers.Events.Where(e => e.Id.Id == 1072 && Equals(e.Fields["ContainerId"], container.Id)).Select(e => e.Fields["Count"]).ToList();
        if (Requires.IsRoot)
        {
            Assert.Empty(launches);
        }
        else
        {
            // The stage made, 256 renames, 44 renames, the stage removed; then the listing opens the 5 files of uid 1000 (mode 0644: readable, no child).
            Assert.Equal([4], launches);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stopped_container_without_a_root_of_its_own_cannot_be_copied_from_and_says_why()
    {
        var container = await _runtime.CreateAsync(null, Spec.ContainerSpec.For("/bin/true"), new ContainerCreateOptions { Stdio = ContainerStdio.Null }, Ct);
        await using (container)
        {
            await container.StartAsync(Ct);
            await container.WaitAsync(Ct);

            var error = await Assert.ThrowsAsync<ContainerStatusException>(() => container.CopyFromAsync("/etc/passwd", _temp.Combine("x"), cancellationToken: Ct));

            Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
            Assert.Contains("no root of its own", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_tar_stream_is_extracted_beneath_its_destination_and_a_path_comes_back_as_a_tar_that_tar_reads()
    {
        string tar = Requires.Tool("tar");
        var tree = _temp.Combine("tar-tree");
        Directory.CreateDirectory(Path.Combine(tree, "dir"));
        await File.WriteAllTextAsync(Path.Combine(tree, "dir", "file"), "content\n", Ct);
        File.SetUnixFileMode(Path.Combine(tree, "dir", "file"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.CreateSymbolicLink(Path.Combine(tree, "dir", "abs"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(tree, "esc"), "/");
        var other = _temp.Combine("tar-other");
        Directory.CreateDirectory(Path.Combine(other, "esc"));
        await File.WriteAllTextAsync(Path.Combine(other, "esc", "escaped"), "escaped\n", Ct);
        var archive = _temp.Combine("in.tar");
        await ImageFixtures.RunAsync("ln", Path.Combine(tree, "dir", "file"), Path.Combine(tree, "dir", "hard"));
        await ImageFixtures.RunAsync(tar, "-cf", archive, "--owner=1234", "--group=2000", "--numeric-owner", "-C", tree, "dir", "esc");
        await ImageFixtures.RunAsync(tar, "-rf", archive, "-C", other, "esc/escaped");
        await using var container = await RunToEndAsync("busybox mkdir /dst");

        await using (var input = File.OpenRead(archive))
        {
            await container.CopyArchiveToAsync(input, "/dst", cancellationToken: Ct);
        }

        var output = _temp.Combine("out.tar");
        await using (var stream = File.Create(output))
        {
            await container.CopyArchiveFromAsync("/dst", stream, cancellationToken: Ct);
        }

        var listing = await ImageFixtures.RunAsync(tar, "-tvf", output, "--numeric-owner");
        var extracted = _temp.Combine("extracted");
        Directory.CreateDirectory(extracted);
        await ImageFixtures.RunAsync(tar, "-xf", output, "-C", extracted);
        var outside = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyFromAsync("/escaped", _temp.Combine("escaped"), cancellationToken: Ct));

        Assert.Equal("content\n", await File.ReadAllTextAsync(Path.Combine(extracted, "dst", "dir", "file"), Ct));
        Assert.Equal("content\n", await File.ReadAllTextAsync(Path.Combine(extracted, "dst", "dir", "hard"), Ct));
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(extracted, "dst", "dir", "abs")).LinkTarget);
        Assert.Equal("escaped\n", await File.ReadAllTextAsync(Path.Combine(extracted, "dst", "escaped"), Ct));
        Assert.Contains("ENOENT", outside.Message, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^-rw-r----- 0/0 +8 .* dst/dir/file$", listing);
        Assert.Matches(@"(?m)^drwx.* dst/$", listing);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_archive_entry_climbing_out_with_dot_dot_is_refused()
    {
        var archive = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(archive, leaveOpen: true))
        {
            var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "../../climbed") { DataStream = new MemoryStream("x"u8.ToArray()) };
            await writer.WriteEntryAsync(entry, Ct);
        }

        archive.Position = 0;
        await using var container = await RunToEndAsync("busybox mkdir -p /dst/sub");

        var error = await Assert.ThrowsAsync<ContainersIOException>(() => container.CopyArchiveToAsync(archive, "/dst/sub", cancellationToken: Ct));

        Assert.Contains("'..'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await container.DiffAsync(Ct), c => c.Path.Contains("climbed", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task Follow_link_copies_the_target_of_a_source_link_under_its_name_and_without_it_the_link_itself()
    {
        await using var container = await RunToEndAsync("busybox ln -s /etc/passwd /lnk; busybox ln -s ../../../../ /up");
        var (followed, kept, climbed) = (_temp.Combine("followed"), _temp.Combine("kept"), _temp.Combine("climbed"));

        await container.CopyFromAsync("/lnk", followed, new ContainerCopyOptions { FollowLink = true }, Ct);
        await container.CopyFromAsync("/lnk", kept, cancellationToken: Ct);
        await container.CopyFromAsync("/up", climbed, new ContainerCopyOptions { FollowLink = true }, Ct);
        var tar = new MemoryStream();
        await container.CopyArchiveFromAsync("/lnk", tar, new ContainerCopyOptions { FollowLink = true }, Ct);
        tar.Position = 0;
        var entry = await new System.Formats.Tar.TarReader(tar).GetNextEntryAsync(cancellationToken: Ct);

        Assert.Contains("app:x:1234:2000", await File.ReadAllTextAsync(followed, Ct), StringComparison.Ordinal);
        Assert.Equal("/etc/passwd", new FileInfo(kept).LinkTarget);
        Assert.True(File.Exists(Path.Combine(climbed, "etc", "passwd")), "the link to ../../../../ is the container's root");
        Assert.False(File.Exists(Path.Combine(climbed, "proc", "self", "status")), "nothing of the host is reached");
        Assert.Equal(("lnk", System.Formats.Tar.TarEntryType.RegularFile), (entry!.Name, entry.EntryType));
    }

    [Fact(Timeout = 120_000)]
    public async Task Keep_owners_gives_copies_the_source_ids_as_root_and_is_refused_naming_the_file_without_privileges()
    {
        await using var container = await RunToEndAsync("echo owned > /owned; busybox chown 1234:2000 /owned || true");
        var source = _temp.Combine("mine");
        await File.WriteAllTextAsync(source, "mine\n", Ct);
        var keep = new ContainerCopyOptions { KeepOwners = true };
        if (!Requires.IsRoot)
        {
            // The caller is the container's root: a file it owns keeps uid 0 inside, which no unprivileged chown gives on the host.
            var refused = await Assert.ThrowsAsync<CopyOwnerException>(() => container.CopyFromAsync("/etc/passwd", _temp.Combine("passwd"), keep, Ct));
            Assert.Contains("only root", refused.Message, StringComparison.Ordinal);
            Assert.Contains("passwd", refused.Message, StringComparison.Ordinal);
            Assert.Equal((0u, 0u), (refused.Uid, refused.Gid));
            Assert.False(File.Exists(_temp.Combine("passwd")));
            return;
        }

        File.SetUnixFileMode(source, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await ImageFixtures.RunAsync("chown", "4321:4322", source);
        await container.CopyToAsync(source, "/kept", keep, Ct);
        await container.CopyToAsync(source, "/given", cancellationToken: Ct);
        var (owned, plain, kept, given) = (_temp.Combine("owned"), _temp.Combine("owned-plain"), _temp.Combine("kept"), _temp.Combine("given"));
        await container.CopyFromAsync("/owned", owned, keep, Ct);
        await container.CopyFromAsync("/owned", plain, cancellationToken: Ct);
        await container.CopyFromAsync("/kept", kept, keep, Ct);
        await container.CopyFromAsync("/given", given, keep, Ct);

        Assert.Equal("1234:2000", (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", owned)).Trim());
        Assert.Equal("0:0", (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", plain)).Trim());
        Assert.Equal("4321:4322", (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", kept)).Trim());
        Assert.Equal("0:0", (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", given)).Trim());
    }

    /// <summary>A tar stream of a directory, a set-uid file in it and a link to it, all owned by <paramref name="uid"/>:<paramref name="gid"/>.</summary>
    private static async Task<MemoryStream> OwnedArchiveAsync(string directory, int uid, int gid)
    {
        var archive = new MemoryStream();
        await using (var writer = new System.Formats.Tar.TarWriter(archive, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, directory + "/") { Uid = uid, Gid = gid, Mode = (UnixFileMode)0x1e8 }, Ct);
            await writer.WriteEntryAsync(
                new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, directory + "/tool") { Uid = uid, Gid = gid, Mode = (UnixFileMode)0x9ed, DataStream = new MemoryStream("tool\n"u8.ToArray()) }, Ct);
            await writer.WriteEntryAsync(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.SymbolicLink, directory + "/link") { Uid = uid, Gid = gid, LinkName = "tool" }, Ct);
        }

        archive.Position = 0;
        return archive;
    }

    [Fact(Timeout = 180_000)]
    public async Task Keep_owners_copies_files_of_other_users_into_and_out_of_a_running_container_with_their_owners()
    {
        // Without root the container's users own their files under subordinate ids this user may neither read past
        // (mode 0600 in a 0700 directory) nor give files to: the copy does both in the container's user namespace.
        await using var container = await StartAsync(
            "busybox mkdir /private; echo secret > /private/f; busybox chown -R 1234:5678 /private; busybox chmod 700 /private; busybox chmod 600 /private/f;",
            "exec sleep 60");
        var keep = new ContainerCopyOptions { KeepOwners = true };
        var source = _temp.Combine("host-file");
        await File.WriteAllTextAsync(source, "host\n", Ct);
        File.SetUnixFileMode(source, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (Requires.IsRoot)
        {
            await ImageFixtures.RunAsync("chown", "4321:4322", source);
        }

        var sourceOwner = (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", source)).Trim();

        await container.CopyArchiveToAsync(await OwnedArchiveAsync("in", 1234, 5678), "/", keep, Ct);
        await container.CopyToAsync(source, "/host-file", keep, Ct);
        var inside = await ExecAsync(container, "busybox stat -c '%n %u:%g %a' /in /in/tool /in/link /host-file; busybox cat /in/tool");
        var tar = new MemoryStream();
        await container.CopyArchiveFromAsync("/private", tar, keep, Ct);
        tar.Position = 0;
        var entries = new List<(string Name, int Uid, int Gid, string? Content)>();
        await using (var reader = new System.Formats.Tar.TarReader(tar))
        {
            while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                entries.Add((entry.Name, entry.Uid, entry.Gid, entry.DataStream is null ? null : await new StreamReader(entry.DataStream).ReadToEndAsync(Ct)));
            }
        }

        var plain = _temp.Combine("plain");
        await container.CopyFromAsync("/private/f", plain, cancellationToken: Ct);
        var kept = _temp.Combine("kept");
        var keptOnHost = await Record.ExceptionAsync(() => container.CopyFromAsync("/private/f", kept, keep, Ct));

        Assert.Equal($"/in 1234:5678 750\n/in/tool 1234:5678 4755\n/in/link 1234:5678 777\n/host-file {sourceOwner} 600\ntool\n", inside);
        Assert.Equal([("private/", 1234, 5678, null), ("private/f", 1234, 5678, "secret\n")], entries);
        Assert.Equal("secret\n", await File.ReadAllTextAsync(plain, Ct));
        if (Requires.IsRoot)
        {
            Assert.Null(keptOnHost);
            Assert.Equal("1234:5678", (await ImageFixtures.RunAsync("stat", "-c", "%u:%g", kept)).Trim());
        }
        else
        {
            // The host gives a file to another user only for root; a tar stream carries the owners instead.
            var refused = Assert.IsType<CopyOwnerException>(keptOnHost);
            Assert.Equal((1234u, 5678u, kept), (refused.Uid, refused.Gid, refused.Path));
            Assert.False(File.Exists(kept));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Keep_owners_gives_a_stopped_container_owners_of_other_users_and_refuses_ids_it_does_not_map()
    {
        await using var container = await RunToEndAsync("busybox mkdir /dst");
        var keep = new ContainerCopyOptions { KeepOwners = true };

        await container.CopyArchiveToAsync(await OwnedArchiveAsync("dst/in", 1234, 5678), "/", keep, Ct);
        var far = await Record.ExceptionAsync(async () => await container.CopyArchiveToAsync(await OwnedArchiveAsync("dst/far", 70000, 5678), "/", keep, Ct));
        var tar = new MemoryStream();
        await container.CopyArchiveFromAsync("/dst", tar, cancellationToken: Ct);
        tar.Position = 0;
        var entries = new List<(string Name, int Uid, int Gid, UnixFileMode Mode)>();
        await using (var reader = new System.Formats.Tar.TarReader(tar))
        {
            while (await reader.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                entries.Add((entry.Name, entry.Uid, entry.Gid, entry.Mode));
            }
        }

        if (Requires.IsRoot)
        {
            // Without a user namespace every id is the container's own: 70000 is kept as it is.
            Assert.Null(far);
            Assert.Contains(("dst/far/", 70000, 5678, (UnixFileMode)0x1e8), entries);
            Assert.Contains(("dst/in/tool", 1234, 5678, (UnixFileMode)0x9ed), entries);
            return;
        }

        var refused = Assert.IsType<CopyOwnerException>(far);
        Assert.Equal((70000u, 5678u, "/dst/far"), (refused.Uid, refused.Gid, refused.Path));
        Assert.Contains("maps no such ids", refused.Message, StringComparison.Ordinal);
        Assert.Equal(
            [("dst/", 0, 0, (UnixFileMode)0x1ed), ("dst/in/", 1234, 5678, (UnixFileMode)0x1e8), ("dst/in/link", 1234, 5678, (UnixFileMode)0x1ff), ("dst/in/tool", 1234, 5678, (UnixFileMode)0x9ed)],
            entries.OrderBy(e => e.Name, StringComparer.Ordinal));
    }
}
