using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Images.Layers;
using Containers.IntegrationTests.Support;
using static Containers.IntegrationTests.Images.Layers.LayerTestSupport;

namespace Containers.IntegrationTests.Images;

/// <summary>
/// Commit round trips: an overlay upper directory (written by the kernel through a real overlay mount, or built by
/// hand with whiteout devices and overlay xattrs) becomes a layer; umoci and skopeo read the committed image back, and
/// a re-import shows the same tree the container saw.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CommitTests : IDisposable
{
    private const string LongName = "a-name-longer-than-the-hundred-bytes-a-ustar-header-holds-so-the-layer-needs-a-pax-path-record-0123456789";

    private readonly string _work = ScratchDirectory("commit-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        // Overlay leaves its work/work directory with mode 0; an unprivileged owner must open it up to remove it.
        Sh($"chmod -R u+rwx '{_work}' 2>/dev/null || true");
        RemoveTree(_work);
    }

    [Fact(Timeout = 180_000)]
    public async Task Changes_made_through_a_real_overlay_mount_commit_to_an_image_that_umoci_unpacks_to_the_merged_tree()
    {
        Requires.Root();
        Requires.Tool("unshare");
        string umoci = Requires.Tool("umoci");
        string skopeo = Requires.Tool("skopeo");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "store") }, Ct);
        var baseImage = Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct));
        var lowers = await store.GetSnapshotChainAsync("busybox:base", Ct);
        var snapshotsBefore = lowers.ToDictionary(l => l, l => ListDirectory(l));
        string upper = Path.Combine(_work, "upper");
        string merged = Path.Combine(_work, "merged");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(Path.Combine(_work, "overlay-work"));
        Directory.CreateDirectory(merged);

        // The kernel writes the upper directory: a whiteout for a deleted lower file, an opaque directory for a
        // deleted and re-created one, copied-up parents, hard links, a fifo and a name longer than ustar allows.
        var expected = Listing(new MemoryStream(Run("unshare", "-m", "--propagation", "private", "sh", "-ec", $"""
            mount -t overlay overlay -o 'lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={_work}/overlay-work' '{merged}'
            cd '{merged}'
            rm bin/ls
            rm -rf etc && mkdir etc && echo new > etc/new
            mkdir -p opt/deep && echo a > opt/a && ln opt/a opt/b && ln -s ../etc/new opt/link
            chmod 0751 opt && chown 1000:1001 opt/a && mkfifo opt/fifo
            echo long > 'opt/deep/{LongName}'
            tar --sort=name --format=pax --numeric-owner -C '{merged}' -cf - .
            """)));

        var diff = await store.DiffAsync("busybox:base", upper, Ct);

        Assert.Equal(
            [
                "C /bin", "D /bin/ls", "C /etc", "D /etc/hello", "A /etc/new", "A /opt", "A /opt/a", "A /opt/b", "A /opt/deep",
                $"A /opt/deep/{LongName}", "A /opt/fifo", "A /opt/link",
            ],
            diff.Select(c => c.ToString()));

        var progress = new List<ImageProgress>();
        var committed = await store.CommitAsync(
            "busybox:base",
            upper,
            new CommitOptions
            {
                Tag = "busybox:committed",
                Author = "Tester <t@example.com>",
                Message = "overlay round trip",
                Config = new ContainerConfig { Cmd = ["/bin/busybox", "true"], Labels = new Dictionary<string, string> { ["stage"] = "committed" } },
            },
            new SynchronousProgress<ImageProgress>(progress.Add),
            Ct);

        Assert.Equal(baseImage.Digest, (await store.ResolveAsync("busybox:base", Ct)).Digest);
        Assert.All(lowers, l => AssertSameTree(snapshotsBefore[l], ListDirectory(l)));
        Assert.Equal(baseImage.Manifest.Layers.Count + 1, committed.Manifest.Layers.Count);
        Assert.Equal(MediaTypes.OciLayerGzip, committed.Manifest.Layers[^1].MediaType);
        Assert.Equal(["/bin/busybox", "true"], committed.Config.Config!.Cmd!);
        Assert.Equal(baseImage.Config.Config!.Env!, committed.Config.Config.Env!);
        Assert.Equal("overlay round trip", committed.Config.History![^1].Comment);
        Assert.Equal(ImageProgressPhase.Committing, progress[^1].Phase);
        Assert.Equal(progress[^1].Total, progress[^1].Completed);

        string exported = Path.Combine(_work, "exported");
        await store.ExportAsync("busybox:committed", exported, ImageArchiveFormat.OciLayout, Ct);
        var inspected = JsonDocument.Parse(await ImageFixtures.RunAsync(skopeo, "inspect", $"oci:{exported}:docker.io/library/busybox:committed")).RootElement;
        Assert.Equal(committed.Digest.ToString(), inspected.GetProperty("Digest").GetString());
        Assert.Equal("committed", inspected.GetProperty("Labels").GetProperty("stage").GetString());
        Assert.Equal(committed.Manifest.Layers.Count, inspected.GetProperty("Layers").GetArrayLength());

        string bundle = Path.Combine(_work, "bundle");
        await ImageFixtures.RunAsync(umoci, "unpack", "--image", $"{exported}:docker.io/library/busybox:committed", bundle);
        AssertSameTree(expected, ListDirectory(Path.Combine(bundle, "rootfs")));

        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "other") }, Ct);
        var reimported = Assert.Single(await other.ImportAsync(exported, tag: null, progress: null, Ct));
        Assert.Equal(committed.Digest, reimported.Digest);
        var chain = await other.GetSnapshotChainAsync("busybox:committed", Ct);
        AssertSameTree(expected, ListOverlay(chain.Reverse().ToList(), Path.Combine(_work, "remerged")));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_hand_built_upper_directory_becomes_oci_whiteouts_and_opaque_markers_without_overlay_xattrs()
    {
        Requires.Root();
        string umoci = Requires.Tool("umoci");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "store") }, Ct);
        await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct);
        string upper = Path.Combine(_work, "upper");
        Sh("""
            mkdir -p bin etc opt
            mknod bin/ls c 0 0
            echo motd > etc/motd
            """, Directory.CreateDirectory(upper).FullName);
        Xattrs.Set(Path.Combine(upper, "etc"), "trusted.overlay.opaque", "y"u8.ToArray());
        Xattrs.Set(Path.Combine(upper, "etc", "motd"), "user.note", "hi"u8.ToArray());
        Xattrs.Set(Path.Combine(upper, "etc", "motd"), "trusted.overlay.origin", [0, 1, 2, 3]);
        Xattrs.Set(Path.Combine(upper, "opt"), "trusted.overlay.impure", "y"u8.ToArray());

        var committed = await store.CommitAsync("busybox:base", upper, new CommitOptions { Tag = "busybox:hand" }, progress: null, Ct);

        var layer = committed.Manifest.Layers[^1];
        string blob = Path.Combine(store.Root, "blobs", "sha256", layer.Digest.Hex);
        byte[] tar;
        using (var gzip = new GZipStream(File.OpenRead(blob), CompressionMode.Decompress))
        using (var buffer = new MemoryStream())
        {
            gzip.CopyTo(buffer);
            tar = buffer.ToArray();
        }

        Assert.Equal(committed.Config.RootFS.DiffIds[^1], Digest.Sha256(tar));
        Assert.Equal(layer.Size, new FileInfo(blob).Length);
        Assert.Equal(layer.Digest, Digest.Sha256(File.ReadAllBytes(blob)));
        var entries = new Dictionary<string, TarEntry>();
        using (var reader = new TarReader(new MemoryStream(tar)))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                entries[entry.Name] = entry;
            }
        }

        Assert.Equal(["bin/", "bin/.wh.ls", "etc/", "etc/.wh..wh..opq", "etc/motd", "opt/"], entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TarEntryType.RegularFile, entries["bin/.wh.ls"].EntryType);
        Assert.Equal(0, entries["bin/.wh.ls"].Length);
        var motd = Assert.IsType<PaxTarEntry>(entries["etc/motd"]);
        Assert.Equal("hi", motd.ExtendedAttributes["SCHILY.xattr.user.note"]);
        Assert.DoesNotContain(entries.Values.OfType<PaxTarEntry>().SelectMany(e => e.ExtendedAttributes.Keys), k => k.Contains("overlay", StringComparison.Ordinal));

        string exported = Path.Combine(_work, "exported");
        await store.ExportAsync("busybox:hand", exported, ImageArchiveFormat.OciLayout, Ct);
        string bundle = Path.Combine(_work, "bundle");
        await ImageFixtures.RunAsync(umoci, "unpack", "--image", $"{exported}:docker.io/library/busybox:hand", bundle);
        string rootfs = Path.Combine(bundle, "rootfs");
        Assert.Equal(["busybox"], Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "bin")).Select(Path.GetFileName));
        Assert.Equal(["motd"], Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "etc")).Select(Path.GetFileName));
        Assert.Equal("hi", Xattrs.GetString(Path.Combine(rootfs, "etc", "motd"), "user.note"));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_layer_of_many_compressed_chunks_is_one_gzip_member_that_gzip_tar_and_umoci_read_whole()
    {
        string umoci = Requires.Tool("umoci");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "store") }, Ct);
        await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct);
        string upper = Directory.CreateDirectory(Path.Combine(_work, "upper")).FullName;

        // About 7 MiB of tar: text that deflates and noise that is stored, so chunks of both kinds.
        Sh("""
            mkdir text noise
            for i in $(seq 1 40); do head -c 75000 /dev/urandom | base64 > text/t$i; done
            head -c 3000000 /dev/urandom > noise/big
            """, upper);

        var committed = await store.CommitAsync("busybox:base", upper, new CommitOptions { Tag = "busybox:chunks" }, progress: null, Ct);

        string blob = Path.Combine(store.Root, "blobs", "sha256", committed.Manifest.Layers[^1].Digest.Hex);
        Run("gzip", "-t", blob);
        byte[] tar = Run("gzip", "-dc", blob);
        Assert.True(tar.Length > 6 << 20, $"the layer's tar is {tar.Length} bytes");
        Assert.Equal(committed.Config.RootFS.DiffIds[^1], Digest.Sha256(tar));

        // gzip -l reads the trailer's length: the whole tar's only when the file is one member.
        string list = Encoding.ASCII.GetString(Run("gzip", "-l", "--quiet", blob));
        Assert.Equal(tar.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), list.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        var names = Encoding.UTF8.GetString(Run("tar", "-tzf", blob)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(43, names.Length);
        AssertSameTree(ListDirectory(upper), Listing(new MemoryStream(tar)));

        string exported = Path.Combine(_work, "exported");
        await store.ExportAsync("busybox:chunks", exported, ImageArchiveFormat.OciLayout, Ct);
        string bundle = Path.Combine(_work, "bundle");
        string[] rootless = Environment.IsPrivilegedProcess ? [] : ["--rootless"];
        await ImageFixtures.RunAsync(umoci, ["unpack", .. rootless, "--image", $"{exported}:docker.io/library/busybox:chunks", bundle]);
        foreach (string file in Directory.EnumerateFiles(upper, "*", SearchOption.AllDirectories))
        {
            Assert.Equal(SHA256.HashData(File.ReadAllBytes(file)), SHA256.HashData(File.ReadAllBytes(Path.Combine(bundle, "rootfs", Path.GetRelativePath(upper, file)))));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_upper_directory_written_with_metacopy_is_refused_and_the_store_is_unchanged()
    {
        Requires.Root();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "store") }, Ct);
        await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct);
        string upper = Path.Combine(_work, "upper");
        Directory.CreateDirectory(Path.Combine(upper, "bin"));
        File.WriteAllBytes(Path.Combine(upper, "bin", "busybox"), []);
        Xattrs.Set(Path.Combine(upper, "bin", "busybox"), "trusted.overlay.metacopy", []);
        var blobsBefore = Directory.GetFiles(Path.Combine(store.Root, "blobs", "sha256")).Order().ToList();

        var error = await Assert.ThrowsAsync<ImageCommitException>(() => store.CommitAsync("busybox:base", upper, new CommitOptions { Tag = "busybox:bad" }, progress: null, Ct));

        Assert.Contains("metacopy", error.Message, StringComparison.Ordinal);
        Assert.Contains("/bin/busybox", error.Message, StringComparison.Ordinal);
        Assert.Equal(blobsBefore, Directory.GetFiles(Path.Combine(store.Root, "blobs", "sha256")).Order());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Root, "ingest"), "commit-*"));
        await Assert.ThrowsAsync<ImageNotFoundException>(() => store.ResolveAsync("busybox:bad", Ct));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_rootless_overlay_with_userxattr_commits_with_owners_mapped_back_to_the_container()
    {
        Requires.NotRoot();
        Requires.Tool("unshare");
        string umoci = Requires.Tool("umoci");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_work, "store") }, Ct);
        await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct);
        var lowers = await store.GetSnapshotChainAsync("busybox:base", Ct);
        string upper = Path.Combine(_work, "upper");
        string merged = Path.Combine(_work, "merged");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(Path.Combine(_work, "overlay-work"));
        Directory.CreateDirectory(merged);
        var expected = Listing(new MemoryStream(Run("unshare", "-Urm", "--propagation", "private", "sh", "-ec", $"""
            mount -t overlay overlay -o 'userxattr,lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={_work}/overlay-work' '{merged}'
            cd '{merged}'
            rm bin/ls
            rm -rf etc && mkdir etc && echo new > etc/new
            mkdir opt && echo a > opt/a
            tar --sort=name --format=pax --numeric-owner -C '{merged}' -cf - .
            """)));
        uint uid = uint.Parse(Sh("id -u").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        uint gid = uint.Parse(Sh("id -g").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(
            ["C /bin", "D /bin/ls", "C /etc", "D /etc/hello", "A /etc/new", "A /opt", "A /opt/a"],
            (await store.DiffAsync("busybox:base", upper, Ct)).Select(c => c.ToString()));
        await store.CommitAsync(
            "busybox:base",
            upper,
            new CommitOptions { Tag = "busybox:rootless", UidMappings = [new(0, uid, 1)], GidMappings = [new(0, gid, 1)] },
            progress: null,
            Ct);

        string exported = Path.Combine(_work, "exported");
        await store.ExportAsync("busybox:rootless", exported, ImageArchiveFormat.OciLayout, Ct);
        string bundle = Path.Combine(_work, "bundle");
        await ImageFixtures.RunAsync(umoci, "unpack", "--rootless", "--image", $"{exported}:docker.io/library/busybox:rootless", bundle);
        AssertSameTree(expected, ListDirectoryAsMappedRoot(Path.Combine(bundle, "rootfs")));
        var layer = (await store.ResolveAsync("busybox:rootless", Ct)).Manifest.Layers[^1];
        string listing = await ImageFixtures.RunAsync("tar", "--numeric-owner", "-tvzf", Path.Combine(store.Root, "blobs", "sha256", layer.Digest.Hex));
        Assert.Contains(" 0/0 ", listing, StringComparison.Ordinal);
        Assert.DoesNotContain($" {uid}/", listing, StringComparison.Ordinal);
        Assert.Contains("etc/.wh..wh..opq", listing, StringComparison.Ordinal);
        Assert.Contains("bin/.wh.ls", listing, StringComparison.Ordinal);
    }
}
