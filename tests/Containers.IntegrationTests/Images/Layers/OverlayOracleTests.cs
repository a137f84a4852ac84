using System.Formats.Tar;
using System.Runtime.Versioning;
using Containers.Images.Snapshots;
using Containers.IntegrationTests.Support;
using static Containers.IntegrationTests.Images.Layers.LayerTestSupport;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>
/// The oracle: an image built with umoci from busybox-static, four layers (create; delete a file and a directory,
/// change a file; re-create both; an opaque directory with an xattr added as a raw layer), applied into our snapshots,
/// mounted as an overlay and compared entry by entry with <c>umoci unpack</c> of the same image.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class OverlayOracleTests
{
    [Fact(Timeout = 120_000)]
    public async Task Snapshots_stacked_as_an_overlay_match_umoci_unpack_entry_by_entry()
    {
        Requires.Root();
        Requires.Tool("umoci");
        Requires.Tool("unshare");
        string work = ScratchDirectory("layers-oracle-");
        try
        {
            string layout = Path.Combine(work, "image");
            string bundle = Path.Combine(work, "bundle");
            string rootfs = Path.Combine(bundle, "rootfs");
            Sh($"umoci init --layout '{layout}' && umoci new --image '{layout}:t'");
            Sh($"umoci unpack --image '{layout}:t' '{bundle}'");
            Sh("""
                mkdir -p bin etc usr/bin data/keep data/gone opaque/sub tmp dev srv
                cp /bin/busybox bin/busybox
                ln -s busybox bin/sh
                ln -s /bin/busybox usr/bin/env
                ln bin/busybox usr/bin/busybox-hard
                echo hello > etc/hello && chmod 0640 etc/hello && chown 1000:1001 etc/hello
                echo a > data/gone/a && echo b > data/keep/b
                echo x > opaque/sub/x && echo y > opaque/y
                mkfifo tmp/fifo && chmod 1777 tmp
                mknod dev/null-ish c 1 3 && mknod dev/block-ish b 7 0
                cp bin/busybox usr/bin/setuid && chmod 4755 usr/bin/setuid
                mkdir -m 2750 srv/shared && chown 33:33 srv/shared
                ln etc/hello srv/hello-link
                """, rootfs);
            Sh($"umoci repack --refresh-bundle --image '{layout}:t' '{bundle}'");
            Sh("""
                rm -rf data/gone
                rm etc/hello srv/hello-link
                echo changed > data/keep/b
                mkdir etc/new
                """, rootfs);
            Sh($"umoci repack --refresh-bundle --image '{layout}:t' '{bundle}'");
            Sh("""
                mkdir data/gone && echo c > data/gone/c
                echo hello-again > etc/hello
                rm bin/sh && ln -s /bin/busybox bin/sh
                """, rootfs);
            Sh($"umoci repack --refresh-bundle --image '{layout}:t' '{bundle}'");
            string opaqueLayer = Path.Combine(work, "opaque.tar");
            using (var file = File.Create(opaqueLayer))
            using (var writer = new TarWriter(file, TarEntryFormat.Pax))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "opaque/") { Mode = (UnixFileMode)0x1ED });
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "opaque/.wh..wh..opq"));
                var attributes = new Dictionary<string, string> { ["SCHILY.xattr.user.origin"] = "layer4" };
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "opaque/new", attributes)
                {
                    DataStream = new MemoryStream("new\n"u8.ToArray()),
                    Mode = (UnixFileMode)0x1A4,
                });
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/keep/.wh.b"));
            }

            Sh($"umoci raw add-layer --image '{layout}:t' '{opaqueLayer}'");

            string reference = Path.Combine(work, "reference");
            Sh($"umoci unpack --image '{layout}:t' '{reference}'");
            var store = new SnapshotStore(Path.Combine(work, "snapshots"), new SnapshotStoreOptions { Rootless = false });
            var snapshots = await ApplyImageAsync(store, layout, "t");

            Assert.Equal(4, snapshots.Count);
            var expected = ListDirectory(Path.Combine(reference, "rootfs"));
            var actual = ListOverlay(snapshots, Path.Combine(work, "merged"));
            AssertSameTree(expected, actual);
            Assert.Contains("user.origin=layer4", actual["opaque/new"], StringComparison.Ordinal);
            Assert.StartsWith("CharacterDevice mode=644 owner=0:0", actual["dev/null-ish"], StringComparison.Ordinal);
            Assert.StartsWith("HardLink", actual["usr/bin/busybox-hard"], StringComparison.Ordinal);
            Assert.StartsWith("RegularFile mode=4755", actual["usr/bin/setuid"], StringComparison.Ordinal);
            Assert.StartsWith("Directory mode=2750 owner=33:33", actual["srv/shared"], StringComparison.Ordinal);
            Assert.DoesNotContain("opaque/sub", actual.Keys);
            Assert.DoesNotContain("data/keep/b", actual.Keys);
            Assert.Contains("data/gone/c", actual.Keys);
            Assert.DoesNotContain("data/gone/a", actual.Keys);
        }
        finally
        {
            RemoveTree(work);
        }
    }
}
