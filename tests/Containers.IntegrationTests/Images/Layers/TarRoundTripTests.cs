using System.Runtime.Versioning;
using System.Text;
using Containers.Images;
using Containers.Images.Snapshots;
using Containers.IntegrationTests.Support;
using static Containers.IntegrationTests.Images.Layers.LayerTestSupport;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>
/// A tree with every entry type GNU tar writes (long names and link targets, hard links across directories,
/// devices, a fifo, special mode bits, owners, xattrs, times) archived by GNU tar in gnu and pax formats, plain,
/// gzip and zstd, applied into a snapshot and compared with the source entry by entry, times included.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class TarRoundTripTests
{
    [Theory(Timeout = 60_000)]
    [InlineData("gnu", nameof(LayerCompression.Gzip))]
    [InlineData("pax", nameof(LayerCompression.Zstd))]
    [InlineData("pax", nameof(LayerCompression.None))]
    public async Task Every_entry_type_written_by_GNU_tar_round_trips_through_a_snapshot(string format, string compressionName)
    {
        var compression = Enum.Parse<LayerCompression>(compressionName);
        Requires.Root();
        string work = ScratchDirectory("layers-roundtrip-");
        try
        {
            string source = Path.Combine(work, "source");
            Directory.CreateDirectory(source);
            string longDir = string.Join('/', Enumerable.Repeat("a-rather-long-directory-name", 6));
            string longTarget = string.Concat(Enumerable.Repeat("../", 40)) + "usr/lib/target";
            Sh($"""
                mkdir -p bin etc/ssl dev tmp srv/group '{longDir}' 'utf8-é' 
                cp /bin/busybox bin/busybox && chmod 4755 bin/busybox
                ln bin/busybox etc/ssl/busybox-hardlink
                ln -s busybox bin/sh
                ln -s '{longTarget}' etc/long-link
                echo long > '{longDir}/a-file-with-a-long-name-too.txt'
                ln '{longDir}/a-file-with-a-long-name-too.txt' tmp/short-hardlink
                printf 'héllo' > 'utf8-é/fïle'
                : > etc/empty && chmod 0600 etc/empty && chown 123:456 etc/empty
                mknod dev/console c 5 1 && mknod dev/loop9 b 7 9 && chown 0:5 dev/console
                mkfifo tmp/pipe && chmod 0620 tmp/pipe
                chmod 1777 tmp && chmod 2775 srv/group && chown 33:33 srv/group
                ln -s /nowhere dangling
                touch -h -d '2001-02-03 04:05:06.5' bin/sh
                touch -d '1999-12-31 23:59:59' etc/empty etc/ssl srv/group
                """, source);
            Xattrs.Set(Path.Combine(source, "etc/empty"), "user.note", Encoding.UTF8.GetBytes("kept"));
            Xattrs.Set(Path.Combine(source, "srv/group"), "user.dir", Encoding.UTF8.GetBytes("also kept"));
            Xattrs.Set(Path.Combine(source, "etc/empty"), "trusted.custom", [1, 2, 3, 0, 255]);

            string compressFlag = compression switch { LayerCompression.Gzip => "-z", LayerCompression.Zstd => "--zstd", _ => string.Empty };
            string blob = Path.Combine(work, "layer");
            Sh($"tar --format={format} --xattrs --xattrs-include='*' --numeric-owner {compressFlag} -C '{source}' -cf '{blob}' .");
            string tarPath = Path.Combine(work, "layer.tar");
            Sh(compression switch
            {
                LayerCompression.Gzip => $"gzip -dc '{blob}' > '{tarPath}'",
                LayerCompression.Zstd => $"zstd -qdc '{blob}' > '{tarPath}'",
                _ => $"cp '{blob}' '{tarPath}'",
            });
            var diffId = Digest.FromSha256Hash(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(tarPath)));

            var store = new SnapshotStore(Path.Combine(work, "snapshots"), new SnapshotStoreOptions { Rootless = false });
            string snapshot = await store.EnsureAsync(diffId, diffId, _ => Task.FromResult<Stream>(File.OpenRead(blob)), compression, null, TestContext.Current.CancellationToken);

            var expected = ListDirectory(source, withTimes: true);
            var actual = ListDirectory(snapshot, withTimes: true);
            AssertSameTree(expected, actual);
            Assert.Contains("trusted.custom=", actual["etc/empty"], StringComparison.Ordinal);
            Assert.StartsWith("BlockDevice", actual["dev/loop9"], StringComparison.Ordinal);
            Assert.Equal(longTarget, new FileInfo(Path.Combine(snapshot, "etc/long-link")).LinkTarget);
        }
        finally
        {
            RemoveTree(work);
        }
    }
}
