using System.Formats.Tar;
using System.Runtime.Versioning;
using Containers.Images.Snapshots;
using Containers.IntegrationTests.Support;
using static Containers.IntegrationTests.Images.Layers.LayerTestSupport;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>
/// The unprivileged pass: an image built with umoci's rootless mode plus a raw layer carrying owners, a device, an
/// opaque directory and whiteouts, applied into a rootless store, mounted as an overlay with <c>userxattr</c> in a
/// user namespace and compared entry by entry (including <c>user.rootlesscontainers</c>) with
/// <c>umoci unpack --rootless</c>. The store is one of a user without subordinate ranges (SnapshotOwnerTests covers
/// the owners a user with ranges gives).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RootlessOracleTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_rootless_store_stacks_like_umoci_rootless_unpack()
    {
        Requires.NotRoot();
        Requires.Tool("umoci");
        Requires.Tool("unshare");
        string work = ScratchDirectory("layers-rootless-");
        try
        {
            string layout = Path.Combine(work, "image");
            string bundle = Path.Combine(work, "bundle");
            string rootfs = Path.Combine(bundle, "rootfs");
            Sh($"umoci init --layout '{layout}' && umoci new --image '{layout}:t'");
            Sh($"umoci unpack --rootless --image '{layout}:t' '{bundle}'");
            Sh("""
                mkdir -p bin etc data/gone data/keep opaque/sub tmp
                cp /bin/busybox bin/busybox && ln -s busybox bin/sh && ln bin/busybox etc/busybox-hard
                echo a > data/gone/a && echo b > data/keep/b && echo x > opaque/sub/x
                mkfifo tmp/fifo && chmod 0555 etc
                """, rootfs);
            Sh($"umoci repack --refresh-bundle --image '{layout}:t' '{bundle}'");
            Sh("rm -rf data/gone && echo changed > data/keep/b", rootfs);
            Sh($"umoci repack --refresh-bundle --image '{layout}:t' '{bundle}'");
            string raw = Path.Combine(work, "raw.tar");
            using (var file = File.Create(raw))
            using (var writer = new TarWriter(file, TarEntryFormat.Pax))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "opaque/") { Mode = (UnixFileMode)0x1ED, Uid = 33, Gid = 33 });
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "opaque/.wh..wh..opq"));
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "opaque/owned") { DataStream = new MemoryStream("o"u8.ToArray()), Mode = (UnixFileMode)0x1A4, Uid = 992, Gid = 123 });
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "group-only") { Mode = (UnixFileMode)0x1A4, Gid = 456 });
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/keep/.wh.b"));
                writer.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "dev-null") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0x1B6, Uid = 5, Gid = 5 });
            }

            Sh($"umoci raw add-layer --image '{layout}:t' '{raw}'");
            string reference = Path.Combine(work, "reference");
            Sh($"umoci unpack --rootless --image '{layout}:t' '{reference}'");

            // Without subordinate ranges every owner is recorded in the xattr, as umoci records it.
            var store = new SnapshotStore(Path.Combine(work, "snapshots"), new SnapshotStoreOptions { SubordinateIds = null });
            var snapshots = await ApplyImageAsync(store, layout, "t");

            var expected = ListDirectoryAsMappedRoot(Path.Combine(reference, "rootfs"));
            var actual = ListOverlay(snapshots, Path.Combine(work, "merged"), rootless: true);
            AssertSameTree(expected, actual);
            Assert.Contains("user.rootlesscontainers=", actual["opaque/owned"], StringComparison.Ordinal);
            Assert.StartsWith("RegularFile mode=666", actual["dev-null"], StringComparison.Ordinal);
            Assert.DoesNotContain("opaque/sub", actual.Keys);
            Assert.DoesNotContain("data/keep/b", actual.Keys);
            Assert.DoesNotContain("data/gone", actual.Keys);
        }
        finally
        {
            Sh($"chmod -R u+rwX '{work}' 2>/dev/null || true");
            RemoveTree(work);
        }
    }
}
