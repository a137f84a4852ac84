using System.Runtime.Versioning;
using Containers.Images;
using Containers.Images.Snapshots;
using Containers.Tests.Images.Layers;

namespace Containers.Tests.Images.Snapshots;

[SupportedOSPlatform("linux")]
public sealed class SnapshotStoreTests
{
    private static readonly Digest A = Digest.Parse("sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    private static readonly Digest B = Digest.Parse("sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d");

    [Fact]
    public void The_chain_id_of_the_first_layer_is_its_diff_id_and_then_hashes_parent_and_diff_id()
    {
        Assert.Equal(A, SnapshotStore.ChainId(null, A));
        // printf 'sha256:ca97… sha256:3e23…' | sha256sum
        Assert.Equal(
            Digest.Parse("sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676"),
            SnapshotStore.ChainId(A, B));
    }

    [Fact]
    public async Task A_cancelled_apply_leaves_no_snapshot_and_no_temporary_directory()
    {
        using var fixture = new LayerFixture();
        byte[] tar = LayerFixture.Tar(w =>
        {
            for (int i = 0; i < 400; i++)
            {
                w.WriteEntry(LayerFixture.File($"f{i}", new string('x', 10_000)));
            }
        });
        var diffId = LayerFixture.DiffId(tar);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Store.EnsureAsync(
            diffId, diffId, _ => Task.FromResult<Stream>(new CancellingStream(tar, 2 << 20, cancel)), LayerCompression.None, null, cancel.Token));

        Assert.Empty(fixture.Store.List());
        Assert.Empty(Directory.GetDirectories(fixture.Store.Root, "tmp-*"));
    }

    [Fact]
    public async Task Cleanup_keeps_the_temporary_directory_of_an_apply_still_running_and_removes_a_dead_one()
    {
        using var fixture = new LayerFixture();
        byte[] tar = LayerFixture.Tar(w => w.WriteEntry(LayerFixture.File("f", new string('x', 3 << 20))));
        var diffId = LayerFixture.DiffId(tar);
        using var release = new SemaphoreSlim(0);
        var apply = fixture.Store.EnsureAsync(
            diffId, diffId, _ => Task.FromResult<Stream>(new GatedStream(tar, 1 << 20, release)), LayerCompression.None, null, TestContext.Current.CancellationToken);
        while (Directory.GetDirectories(fixture.Store.Root, "tmp-*").Length == 0)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        string dead = Directory.CreateDirectory(Path.Combine(fixture.Store.Root, "tmp-dead")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dead, "half-written"), "x", TestContext.Current.CancellationToken);

        new SnapshotStore(fixture.Store.Root, new SnapshotStoreOptions()).CleanupIncomplete();

        Assert.False(Directory.Exists(dead));
        Assert.Single(Directory.GetDirectories(fixture.Store.Root, "tmp-*"));
        release.Release();
        string snapshot = await apply;
        Assert.Equal(3 << 20, new FileInfo(Path.Combine(snapshot, "f")).Length);
        Assert.Empty(Directory.GetDirectories(fixture.Store.Root, "tmp-*"));
    }

    [Fact]
    public async Task A_removed_snapshot_disappears_and_can_be_applied_again()
    {
        using var fixture = new LayerFixture();
        byte[] tar = LayerFixture.Tar(w =>
        {
            w.WriteEntry(LayerFixture.Dir("read-only/", (UnixFileMode)0x16D));
            w.WriteEntry(LayerFixture.File("read-only/f", "x", (UnixFileMode)0x124));
        });
        string snapshot = await fixture.ApplyAsync(tar);
        var diffId = LayerFixture.DiffId(tar);

        await fixture.Store.RemoveAsync(diffId, TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(snapshot));
        Assert.False(fixture.Store.Exists(diffId));
        Assert.Equal(["tmp.lock"], Directory.EnumerateFileSystemEntries(fixture.Store.Root).Where(p => !Directory.Exists(p) || Directory.EnumerateFileSystemEntries(p).Any()).Select(Path.GetFileName));
        Assert.Equal(snapshot, await fixture.ApplyAsync(tar));
    }

    /// <summary>Cancels the apply once <c>after</c> bytes were read.</summary>
    private sealed class CancellingStream(byte[] data, int after, CancellationTokenSource cancel) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= after)
            {
                cancel.Cancel();
            }

            return base.Read(buffer, offset, count);
        }
    }

    /// <summary>Serves <c>first</c> bytes, then waits for the test to release the rest.</summary>
    private sealed class GatedStream(byte[] data, int first, SemaphoreSlim release) : MemoryStream(data)
    {
        private bool _released;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!_released && Position >= first)
            {
                release.Wait();
                _released = true;
            }

            return base.Read(buffer, offset, (int)Math.Min(count, _released ? count : first - Position));
        }
    }
}
