using System.Runtime.Versioning;
using System.Security.Cryptography;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// Containers whose root is an overlay: of an image's snapshots (built with umoci from Debian's busybox-static, or
/// with tar), or of a directory used copy-on-write. Everything lives on tmpfs (the tests churn directories).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class OverlayRootfsTests : IDisposable
{
    private readonly TempDirectory _temp = new("/dev/shm");
    private readonly ContainerRuntime _runtime;

    public OverlayRootfsTests()
    {
        var state = Path.Combine(_temp.Path, "state");
        Directory.CreateDirectory(state);
        // As the runtime's default: a container's root in a user namespace passes through it to the root mount point.
        File.SetUnixFileMode(_temp.Path, (UnixFileMode)0x1ed);
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = state, StorageDirectory = StorageDirectory })
            .GetAwaiter().GetResult();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string StoreRoot => Path.Combine(_temp.Path, "store");

    private string StorageDirectory => Path.Combine(StoreRoot, "containers");

    public void Dispose()
    {
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _temp.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task Whiteouts_across_five_layers_delete_recreate_and_hide_as_docker_shows_them()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);

        var result = await RunAsync(rootfs, "cat /data/a; ls /data; ls /dir; ls /bin; cat /etc/hello");

        Assert.Equal(5, rootfs.LowerDirectories.Length);
        Assert.Equal("", result.Stderr);
        Assert.Equal("a2\na\nb\nz\nbusybox\nls\nsh\nhello\n", result.Stdout);
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_containers_of_one_image_each_see_only_their_own_writes_and_the_image_keeps_its_own()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        const string Script = "echo $0 > /etc/hello; rm /data/b; /bin/busybox sleep 1; cat /etc/hello; ls /data";

        var results = await Task.WhenAll(RunAsync(rootfs, Script, "one"), RunAsync(rootfs, Script, "two"));

        Assert.Equal("one\na\n", results[0].Stdout);
        Assert.Equal("two\na\n", results[1].Stdout);
        var after = await RunAsync(rootfs, "cat /etc/hello; ls /data");
        Assert.Equal("hello\na\nb\n", after.Stdout);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_store_is_byte_for_byte_unchanged_after_containers_ran_and_were_removed()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var before = await FingerprintAsync(StoreRoot, "./containers", "./leases");

        var stopped = await _runtime.CreateAsync("kept", ContainerSpec.For("/bin/busybox", "sh", "-c", "echo x > /data/b; mkdir /new"),
            new ContainerCreateOptions { Overlay = rootfs }, Ct);
        await stopped.StartAsync(Ct);
        await stopped.WaitAsync(Ct);
        var upper = Assert.Single(Directory.GetDirectories(StorageDirectory));
        Assert.Equal("x\n", await File.ReadAllTextAsync(Path.Combine(upper, "upper", "data", "b"), Ct));
        Assert.True(Directory.Exists(Path.Combine(upper, "upper", "proc")), "the mount point /proc is made in the upper directory");
        await RunAsync(rootfs, "rm -r /data /bin/ls; chmod 700 /etc; echo y >> /etc/hello; mkdir -p /dir/deep/er; touch /bin/busybox");
        await stopped.DeleteAsync(Ct);

        Assert.Equal(before, await FingerprintAsync(StoreRoot, "./containers", "./leases"));
        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(StoreRoot, "leases")));
    }

    [Fact(Timeout = 300_000)]
    public async Task A_hundred_containers_of_one_image_run_at_once_each_with_its_own_writes_and_leave_nothing_behind()
    {
        const int Count = 100;
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var before = await FingerprintAsync(StoreRoot, "./containers", "./leases");
        // Each writes its own name where the image has a file, deletes one, marks itself started (the shared
        // directory is a bind mount) and blocks reading a line from a FIFO there before it reads its own file back.
        // The lines are written once all have started, so all hundred run at once; they wait without using the CPU
        // (polling for the others' markers made the last ones start ever slower on a loaded machine).
        var shared = Path.Combine(_temp.Path, "started");
        Directory.CreateDirectory(shared);
        var go = Path.Combine(shared, "go");
        await ImageFixtures.RunAsync("mkfifo", "-m", "0666", go);
        // Read and write: opening does not wait for a reader, and the lines stay in the pipe for the late readers.
        await using var release = new FileStream(go, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        var spec = ContainerSpec.For("/bin/busybox", "sh", "-c",
                "echo $NAME > /etc/hello; rm /data/b; touch /started/$NAME; read line < /started/go; cat /etc/hello; ls /data")
            .WithBindMount(shared, "/started");

        var runs = Task.WhenAll(Enumerable.Range(0, Count).Select(i => _runtime
            .Prepare(spec.WithEnv("NAME", $"c{i}"), new ContainerCreateOptions { Overlay = rootfs })
            .RunAsync(new ContainerRunOptions { Timeout = TimeSpan.FromMinutes(3) }, Ct)));
        while (Directory.GetFileSystemEntries(shared).Count(e => e != go) < Count && !runs.IsCompleted)
        {
            await Task.Delay(50, Ct);
        }

        await release.WriteAsync(System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("go\n", Count))), Ct);
        var results = await runs;

        for (var i = 0; i < Count; i++)
        {
            Assert.Equal($"c{i}\na\n", results[i].Stdout);
        }

        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.DoesNotContain(StorageDirectory, await File.ReadAllTextAsync("/proc/self/mountinfo", Ct), StringComparison.Ordinal);
        Assert.Equal(before, await FingerprintAsync(StoreRoot, "./containers", "./leases"));
    }

    [Fact(Timeout = 300_000)]
    public async Task An_image_of_130_layers_more_than_a_page_of_mount_options_runs()
    {
        const int Layers = 130;
        var archive = await ManyLayersArchiveAsync(Layers);
        await using var store = await OpenStoreAsync();
        await store.ImportAsync(archive, "many:1", progress: null, Ct);
        var rootfs = await OverlayRootfs.FromImageAsync(store, "many:1", Ct);
        Assert.True(string.Join(",lowerdir+=", rootfs.LowerDirectories).Length > 4096, "the lower directories must not fit in one page of options");

        var result = await RunAsync(rootfs, "ls /layers | wc -l; cat /layers/1 /layers/129");

        Assert.Equal(Layers, rootfs.LowerDirectories.Length);
        Assert.Equal($"{Layers - 1}\n1\n129\n", result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_directory_used_copy_on_write_stays_untouched_and_each_container_starts_from_it()
    {
        var directory = BusyboxDirectory("cow");
        var before = await FingerprintAsync(directory);
        var rootfs = OverlayRootfs.FromDirectory(directory);

        var first = await RunAsync(rootfs, "rm /bin/data; echo new > /bin/new; mkdir -p /var/lib/x; ls /bin");
        var second = await RunAsync(rootfs, "ls /bin; ls /var 2>&1");

        Assert.Equal("busybox\nnew\nsh\n", first.Stdout);
        Assert.Equal("busybox\ndata\nsh\n", second.Stdout.Split("ls: ")[0]);
        Assert.Contains("/var", second.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, await FingerprintAsync(directory));
        Assert.False(Directory.Exists(Path.Combine(directory, "proc")), "mount points are made in the container's layer, not in the directory");
        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_only_overlay_is_read_only_to_the_program_and_works_without_the_mount_points_in_its_layers()
    {
        // "bare" has no /proc, /dev, /sys or /work: they are made in the container's own layer before the root is
        // made read-only, as Docker's init layer holds them; mounts below the root stay writable.
        var directory = BusyboxDirectory("bare");
        var before = await FingerprintAsync(directory);
        var spec = ContainerSpec.For("/bin/busybox", "sh", "-c", "touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/x && echo tmp; pwd; ls -d /proc/self")
            .WithHostRootfs(readOnly: true).WithTmpfs("/tmp", 1 << 20);
        spec = spec with { Process = spec.Process! with { Cwd = "/work" } };

        var result = await _runtime.Prepare(spec, new ContainerCreateOptions { Overlay = OverlayRootfs.FromDirectory(directory) }).RunAsync(Ct);

        Assert.Equal((0, "ro\ntmp\n/work\n/proc/self\n"), (result.ExitCode, result.Stdout));
        Assert.Equal(before, await FingerprintAsync(directory));
        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.Empty(StateEntries.Of(_runtime.StateDirectory));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_start_that_fails_after_the_layers_were_made_leaves_no_directory_lease_state_or_mount()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var spec = ContainerSpec.For("/bin/busybox", "true").WithBindMount(Path.Combine(_temp.Path, "missing"), "/mnt");

        await Assert.ThrowsAsync<ContainerStartException>(
            () => _runtime.CreateAsync("failing", spec, new ContainerCreateOptions { Overlay = rootfs }, Ct));

        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(StoreRoot, "leases")));
        Assert.Empty(StateEntries.Of(_runtime.StateDirectory));
        Assert.DoesNotContain(_temp.Path, await File.ReadAllTextAsync("/proc/self/mountinfo", Ct), StringComparison.Ordinal);
        await store.RemoveAsync("layered:1", Ct);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_prepared_root_whose_image_was_removed_is_refused_and_leaves_nothing()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var prepared = _runtime.Prepare(ContainerSpec.For("/bin/busybox", "true"), new ContainerCreateOptions { Overlay = rootfs });
        Assert.Equal(0, (await prepared.RunAsync(Ct)).ExitCode);
        await store.RemoveAsync("layered:1", Ct);

        await Assert.ThrowsAsync<ImageNotFoundException>(() => prepared.RunAsync(Ct));

        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.Empty(StateEntries.Of(_runtime.StateDirectory));
        Assert.False(Directory.Exists(Path.Combine(StoreRoot, "leases")) && Directory.GetFileSystemEntries(Path.Combine(StoreRoot, "leases")).Length > 0);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_snapshot_lost_after_the_root_was_prepared_is_applied_again_when_a_container_is_made()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var prepared = _runtime.Prepare(ContainerSpec.For("/bin/busybox", "cat", "/data/a"), new ContainerCreateOptions { Overlay = rootfs });
        Assert.Equal("a2\n", (await prepared.RunAsync(Ct)).Stdout);
        var top = rootfs.LowerDirectories[0];
        Assert.Equal(0, Containers.Linux.DirectoryTree.Remove(top));

        var result = await prepared.RunAsync(Ct);

        Assert.Equal("a2\n", result.Stdout);
        Assert.True(Directory.Exists(top));
        Assert.Empty(Directory.GetFileSystemEntries(StorageDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(StoreRoot, "leases")));
    }

    [Fact(Timeout = 120_000)]
    public async Task An_image_in_use_cannot_be_removed_force_only_untags_it_and_its_content_goes_with_the_last_container()
    {
        await using var store = await LayeredStoreAsync();
        var rootfs = await OverlayRootfs.FromImageAsync(store, "layered:1", Ct);
        var container = await _runtime.CreateAsync("user", ContainerSpec.For("/bin/busybox", "true"), new ContainerCreateOptions { Overlay = rootfs }, Ct);
        await container.StartAsync(Ct);
        await container.WaitAsync(Ct);

        var refused = await Assert.ThrowsAsync<ImageInUseException>(() => store.RemoveAsync("layered:1", Ct));
        var pruned = await store.PruneAsync(Ct);
        var untagged = await store.RemoveAsync("layered:1", force: true, Ct);
        var listed = Assert.Single(await store.ListAsync(Ct));
        var stillRuns = await RunAsync(rootfs, "cat /data/a");
        await container.DeleteAsync(Ct);
        var collected = await store.PruneAsync(Ct);

        Assert.Equal(rootfs.Image, refused.Image);
        Assert.Equal(0, pruned.RemovedSnapshots);
        Assert.Empty(untagged.RemovedImages);
        Assert.Empty(listed.References);
        Assert.Equal("a2\n", stillRuns.Stdout);
        Assert.Equal(5, collected.RemovedSnapshots);
        Assert.Empty(await store.ListAsync(Ct));
    }

    private Task<ContainerResult> RunAsync(OverlayRootfs rootfs, string script, string name = "sh") =>
        _runtime.Prepare(ContainerSpec.For("/bin/busybox", "sh", "-c", script, name), new ContainerCreateOptions { Overlay = rootfs }).RunAsync(Ct);

    private Task<ImageStore> OpenStoreAsync() => ImageStore.OpenAsync(new ImageStoreOptions { Root = StoreRoot }, Ct);

    /// <summary>
    /// A store holding "layered:1": the busybox fixture's two layers (the second deletes /bin/sh) and three more made
    /// with umoci: add /data/{a,b} and /dir/{x,sub/y}; delete /data/a and replace /dir by a new one holding z;
    /// re-create /data/a and /bin/sh.
    /// </summary>
    private async Task<ImageStore> LayeredStoreAsync()
    {
        var layout = ImageFixtures.CopyDirectory(await ImageFixtures.BusyboxLayoutAsync(), Path.Combine(_temp.Path, "layout"));
        var image = $"{layout}:{ImageFixtures.Tag}";
        var bundle = Path.Combine(_temp.Path, "bundle");
        var rootfs = Path.Combine(bundle, "rootfs");
        string[] rootless = Requires.IsRoot ? [] : ["--rootless"];
        async Task LayerAsync(Action change)
        {
            await ImageFixtures.RunAsync("umoci", ["unpack", .. rootless, "--image", image, bundle]);
            change();
            await ImageFixtures.RunAsync("umoci", "repack", "--image", image, bundle);
            await ImageFixtures.RunAsync("rm", "-rf", bundle);
        }

        await LayerAsync(() =>
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "data"));
            File.WriteAllText(Path.Combine(rootfs, "data", "a"), "a1\n");
            File.WriteAllText(Path.Combine(rootfs, "data", "b"), "b\n");
            Directory.CreateDirectory(Path.Combine(rootfs, "dir", "sub"));
            File.WriteAllText(Path.Combine(rootfs, "dir", "x"), "x\n");
            File.WriteAllText(Path.Combine(rootfs, "dir", "sub", "y"), "y\n");
        });
        await LayerAsync(() =>
        {
            File.Delete(Path.Combine(rootfs, "data", "a"));
            Directory.Delete(Path.Combine(rootfs, "dir"), recursive: true);
            Directory.CreateDirectory(Path.Combine(rootfs, "dir"));
            File.WriteAllText(Path.Combine(rootfs, "dir", "z"), "z\n");
        });
        await LayerAsync(() =>
        {
            File.WriteAllText(Path.Combine(rootfs, "data", "a"), "a2\n");
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "busybox");
        });

        var store = await OpenStoreAsync();
        await store.ImportAsync(layout, "layered:1", progress: null, Ct);
        return store;
    }

    /// <summary>A docker-archive made with tar: busybox in the first layer, then one layer per file /layers/N.</summary>
    private async Task<string> ManyLayersArchiveAsync(int layers)
    {
        Assert.SkipUnless(File.Exists("/bin/busybox"), "needs /bin/busybox (Debian package busybox-static)");
        var stage = Path.Combine(_temp.Path, "stage");
        var content = Path.Combine(_temp.Path, "content");
        Directory.CreateDirectory(stage);
        var diffIds = new List<string>();
        for (var i = 0; i < layers; i++)
        {
            Directory.CreateDirectory(content);
            if (i == 0)
            {
                Directory.CreateDirectory(Path.Combine(content, "bin"));
                File.Copy("/bin/busybox", Path.Combine(content, "bin", "busybox"));
            }
            else
            {
                Directory.CreateDirectory(Path.Combine(content, "layers"));
                await File.WriteAllTextAsync(Path.Combine(content, "layers", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{i}\n", Ct);
            }

            var layer = Path.Combine(stage, $"{i}.tar");
            await ImageFixtures.RunAsync("tar", "--numeric-owner", "-cf", layer, "-C", content, ".");
            await using (var stream = File.OpenRead(layer))
            {
                diffIds.Add("sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
            }

            Directory.Delete(content, recursive: true);
        }

        var config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[""" + string.Join(',', diffIds.Select(d => $"\"{d}\"")) + "]}}";
        await File.WriteAllTextAsync(Path.Combine(stage, "config.json"), config, Ct);
        var files = string.Join(',', Enumerable.Range(0, layers).Select(i => $"\"{i}.tar\""));
        await File.WriteAllTextAsync(Path.Combine(stage, "manifest.json"), $$"""[{"Config":"config.json","RepoTags":["many:1"],"Layers":[{{files}}]}]""", Ct);
        var archive = Path.Combine(_temp.Path, "many.tar");
        await ImageFixtures.RunAsync("tar", "-cf", archive, "-C", stage, ".");
        Directory.Delete(stage, recursive: true);
        return archive;
    }

    /// <summary>A directory with a static busybox, <c>/bin/sh</c>, a data file in <c>/bin</c>, and the given empty folders.</summary>
    private string BusyboxDirectory(string name, params string[] folders)
    {
        Assert.SkipUnless(File.Exists("/bin/busybox"), "needs /bin/busybox (Debian package busybox-static)");
        var directory = Path.Combine(_temp.Path, name);
        Directory.CreateDirectory(Path.Combine(directory, "bin"));
        File.Copy("/bin/busybox", Path.Combine(directory, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(directory, "bin", "sh"), "busybox");
        File.WriteAllText(Path.Combine(directory, "bin", "data"), "data\n");
        foreach (var folder in folders)
        {
            Directory.CreateDirectory(Path.Combine(directory, folder));
        }

        return directory;
    }

    /// <summary>Every entry's path, type, mode, owner, size, link target, times of change and content hash (find and sha256sum), except the pruned folders.</summary>
    private static async Task<string> FingerprintAsync(string root, params string[] pruned)
    {
        var prune = string.Join(' ', pruned.Select(p => $"-path {p} -prune -o"));
        var script = $"cd '{root}' && find . -mindepth 1 {prune} -printf '%p %y %m %U %G %s %l %T@ %C@\\n' | sort && find . -mindepth 1 {prune} -type f -print0 | sort -z | xargs -0 -r sha256sum";
        return await ImageFixtures.RunAsync("sh", "-c", script);
    }
}
