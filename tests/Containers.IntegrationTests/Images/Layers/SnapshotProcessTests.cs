using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Containers.Images;
using Containers.Images.Snapshots;
using static Containers.IntegrationTests.Images.Layers.LayerTestSupport;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>
/// Snapshot stores shared between processes: a SIGKILL in the middle of an apply, and two processes applying the
/// same layer at once. The child processes are this test executable running the same test in a helper role,
/// chosen by environment variables.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SnapshotProcessTests
{
    private const string RoleVariable = "CONTAINERS_LAYER_TEST_ROLE";
    private const string StoreVariable = "CONTAINERS_LAYER_TEST_STORE";
    private const string BlobVariable = "CONTAINERS_LAYER_TEST_BLOB";

    [Fact(Timeout = 120_000)]
    public async Task A_killed_apply_leaves_nothing_visible_and_the_next_open_cleans_up()
    {
        if (Environment.GetEnvironmentVariable(RoleVariable) == "hang")
        {
            await ApplyAsChildAsync(hangAfterBytes: 4 << 20);
            return;
        }

        string work = ScratchDirectory("layers-crash-");
        try
        {
            var (blob, diffId) = WriteLayer(work, files: 3000);
            string storeRoot = Path.Combine(work, "snapshots");
            using var child = StartChild(nameof(A_killed_apply_leaves_nothing_visible_and_the_next_open_cleans_up), "hang", storeRoot, blob);
            string ready = Path.Combine(storeRoot, "..", "child-blocked");
            var deadline = Stopwatch.StartNew();
            bool Applying() =>
                File.Exists(ready)
                && Directory.Exists(storeRoot)
                && Directory.GetDirectories(storeRoot, "tmp-*") is [string temporary]
                && Directory.EnumerateFileSystemEntries(temporary, "*", SearchOption.AllDirectories).Any();
            while (!Applying() && !child.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            Assert.True(Applying(), "the child never reached the middle of its apply (blocked download, entries being written)");
            Assert.False(child.HasExited);

            child.Kill();
            await child.WaitForExitAsync(TestContext.Current.CancellationToken);

            var store = new SnapshotStore(storeRoot, new SnapshotStoreOptions());
            Assert.Empty(store.List());
            Assert.False(store.Exists(diffId));
            store.CleanupIncomplete();
            Assert.Empty(Directory.GetDirectories(storeRoot, "tmp-*"));

            string snapshot = await store.EnsureAsync(diffId, diffId, _ => Task.FromResult<Stream>(File.OpenRead(blob)), LayerCompression.Gzip, null, TestContext.Current.CancellationToken);
            Assert.Equal(3000, Directory.GetFiles(snapshot, "*", SearchOption.AllDirectories).Length);
        }
        finally
        {
            RemoveTree(work);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_processes_applying_the_same_layer_publish_one_complete_snapshot()
    {
        if (Environment.GetEnvironmentVariable(RoleVariable) == "apply")
        {
            await ApplyAsChildAsync(hangAfterBytes: null);
            return;
        }

        string work = ScratchDirectory("layers-race-");
        try
        {
            var (blob, diffId) = WriteLayer(work, files: 3000);
            string storeRoot = Path.Combine(work, "snapshots");
            using var first = StartChild(nameof(Two_processes_applying_the_same_layer_publish_one_complete_snapshot), "apply", storeRoot, blob);
            using var second = StartChild(nameof(Two_processes_applying_the_same_layer_publish_one_complete_snapshot), "apply", storeRoot, blob);
            foreach (var child in new[] { first, second })
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                timeout.CancelAfter(TimeSpan.FromMinutes(2));
                await child.WaitForExitAsync(timeout.Token);
                Assert.True(child.ExitCode == 0, $"a child apply failed: {await child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)}");
            }

            var store = new SnapshotStore(storeRoot, new SnapshotStoreOptions());
            Assert.Equal([diffId], store.List());
            Assert.Empty(Directory.GetDirectories(storeRoot, "tmp-*"));
            Assert.Equal(3000, Directory.GetFiles(store.PathOf(diffId), "*", SearchOption.AllDirectories).Length);
        }
        finally
        {
            RemoveTree(work);
        }
    }

    private static (string Blob, Digest DiffId) WriteLayer(string work, int files)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            for (int i = 0; i < files; i++)
            {
                if (i % 100 == 0)
                {
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, $"d{i / 100}/") { Mode = (UnixFileMode)0x1ED });
                }

                byte[] content = new byte[1000 + (i % 7 * 3000)];
                new Random(i).NextBytes(content);
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"d{i / 100}/f{i}") { DataStream = new MemoryStream(content), Mode = (UnixFileMode)0x1A4 });
            }
        }

        string blob = Path.Combine(work, "layer.tar.gz");
        using (var file = File.Create(blob))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            tar.Position = 0;
            tar.CopyTo(gzip);
        }

        return (blob, Digest.FromSha256Hash(SHA256.HashData(tar.ToArray())));
    }

    private static Process StartChild(string testName, string role, string storeRoot, string blob)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SnapshotProcessTests).Assembly.Location);
        }

        start.ArgumentList.Add("-method");
        start.ArgumentList.Add($"{typeof(SnapshotProcessTests).FullName}.{testName}");
        start.Environment[RoleVariable] = role;
        start.Environment[StoreVariable] = storeRoot;
        start.Environment[BlobVariable] = blob;
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task ApplyAsChildAsync(int? hangAfterBytes)
    {
        string storeRoot = Environment.GetEnvironmentVariable(StoreVariable)!;
        string blob = Environment.GetEnvironmentVariable(BlobVariable)!;
        byte[] data = await File.ReadAllBytesAsync(blob, TestContext.Current.CancellationToken);
        Digest diffId;
        using (var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress))
        {
            diffId = Digest.FromSha256Hash(await SHA256.HashDataAsync(gzip, TestContext.Current.CancellationToken));
        }

        var store = new SnapshotStore(storeRoot, new SnapshotStoreOptions());
        string ready = Path.Combine(storeRoot, "..", "child-blocked");
        await store.EnsureAsync(
            diffId,
            diffId,
            _ => Task.FromResult<Stream>(hangAfterBytes is int limit ? new HangingStream(data, limit, ready) : new MemoryStream(data)),
            LayerCompression.Gzip,
            null,
            TestContext.Current.CancellationToken);
        Assert.True(store.Exists(diffId));
    }

    /// <summary>Serves the first bytes of a blob, then blocks forever, as a stalled download would.</summary>
    private sealed class HangingStream(byte[] data, int limit, string readyFile) : MemoryStream(data, 0, limit)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = base.Read(buffer, offset, count);
            if (read == 0)
            {
                File.WriteAllText(readyFile, "blocked");
                Thread.Sleep(Timeout.Infinite);
            }

            return read;
        }
    }
}
