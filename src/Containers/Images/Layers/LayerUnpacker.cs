using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Images.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Containers.Images.Layers;

/// <summary>
/// Applies one layer blob into a directory on three dedicated threads: one decompresses into a fixed ring of 1 MiB
/// chunks, one hashes them (the diff id is the sha256 of the uncompressed stream), one parses tar and creates
/// files, writing file contents straight from the chunks. Memory stays at the ring's size whatever the layer's size.
/// Dedicated threads with blocking hand-offs, not the thread pool: a hand-off per chunk through the pool costs a
/// scheduling delay each time, and on a busy 2-core machine that dominated the whole apply.
/// </summary>
internal static class LayerUnpacker
{
    private const int ChunkCount = 8;

    /// <summary>A tar header may straddle two chunks: the unparsed tail (under 512 bytes) is copied in front.</summary>
    private const int Headroom = 512;

    /// <summary>Headroom plus data fill exactly 1 MiB, the array pool's bucket size.</summary>
    private const int ChunkSize = (1 << 20) - Headroom;

    /// <summary>Applies <paramref name="blob"/> into <paramref name="root"/> and returns what was measured.</summary>
    public static async Task<LayerUnpackResult> ApplyAsync(
        SafeFileHandle root,
        Stream blob,
        LayerCompression compression,
        LayerApplyOptions options,
        SnapshotStoreOptions limits,
        IProgress<long>? progress,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var counting = new CountingStream(blob, progress);
        Stream tar = compression switch
        {
            LayerCompression.None => counting,
            LayerCompression.Gzip => new GZipStream(counting, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => NativeZstdStream.Open(counting),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown layer compression"),
        };

        await using (tar.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var free = new BlockingCollection<byte[]>(ChunkCount);
            using var toApply = new BlockingCollection<Chunk>(ChunkCount);
            using var toHash = new BlockingCollection<Chunk>(ChunkCount);
            var buffers = new byte[ChunkCount][];
            for (int i = 0; i < ChunkCount; i++)
            {
                buffers[i] = ArrayPool<byte>.Shared.Rent(Headroom + ChunkSize);
                free.Add(buffers[i], CancellationToken.None);
            }

            try
            {
                long uncompressed = 0;
                var producer = Start(() => uncompressed = Produce(tar, counting, compression, limits, free, toApply, toHash, stop.Token), stop);
                Digest diffId = default;
                var hasher = Start(() => diffId = Hash(toHash, free, stop.Token), stop);
                using var applier = new LayerApplier(root, options, logger);
                var consumer = Start(() => Apply(applier, toApply, free, stop.Token), stop);

                await Task.WhenAll(producer, hasher, consumer).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                var failure = FirstFailure(producer, consumer, hasher);
                if (failure is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                }

                cancellationToken.ThrowIfCancellationRequested();
                applier.Complete();
                counting.ReportFinal();
                return new LayerUnpackResult(diffId, uncompressed, counting.BytesRead, applier.EntryCount, applier.Owners);
            }
            finally
            {
                foreach (byte[] buffer in buffers)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    /// <summary>
    /// The diff id of a layer blob: the sha256 of its decompressed stream, read under the same size and ratio limits as
    /// an apply, so a decompression bomb is refused here too.
    /// </summary>
    public static async Task<Digest> DiffIdAsync(Stream blob, LayerCompression compression, SnapshotStoreOptions limits, CancellationToken cancellationToken)
    {
        var counting = new CountingStream(blob, progress: null);
        Stream tar = compression switch
        {
            LayerCompression.None => counting,
            LayerCompression.Gzip => new GZipStream(counting, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => NativeZstdStream.Open(counting),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown layer compression"),
        };

        await using (tar.ConfigureAwait(false))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                long total = 0;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int read = Read(tar, buffer, compression);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                    CheckQuota(total, counting.BytesRead, limits);
                    hash.AppendData(buffer, 0, read);
                }

                return Digest.FromSha256Hash(hash.GetHashAndReset());
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static Task Start(Action work, CancellationTokenSource stop) =>
        Task.Factory.StartNew(
            () =>
            {
                try
                {
                    work();
                }
                catch
                {
                    // The other stages block on hand-offs from this one: release them.
                    stop.Cancel();
                    throw;
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    /// <summary>The error to report: the first stage that failed for its own reason, not because it was stopped.</summary>
    private static Exception? FirstFailure(params Task[] stages)
    {
        Exception? cancelled = null;
        foreach (var stage in stages)
        {
            if (stage.Exception?.InnerException is Exception error)
            {
                if (error is not OperationCanceledException)
                {
                    return error;
                }

                cancelled ??= error;
            }
        }

        return cancelled;
    }

    private static long Produce(
        Stream tar,
        CountingStream compressed,
        LayerCompression compression,
        SnapshotStoreOptions limits,
        BlockingCollection<byte[]> free,
        BlockingCollection<Chunk> toApply,
        BlockingCollection<Chunk> toHash,
        CancellationToken stop)
    {
        long total = 0;
        try
        {
            while (true)
            {
                byte[] buffer = free.Take(stop);
                int filled = 0;
                while (filled < ChunkSize)
                {
                    int read = Read(tar, buffer.AsSpan(Headroom + filled, ChunkSize - filled), compression);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                }

                if (filled == 0)
                {
                    free.Add(buffer, CancellationToken.None);
                    return total;
                }

                total += filled;
                CheckQuota(total, compressed.BytesRead, limits);
                var chunk = new Chunk(buffer, filled);
                toHash.Add(chunk, stop);
                toApply.Add(chunk, stop);
                if (filled < ChunkSize)
                {
                    return total;
                }
            }
        }
        finally
        {
            toHash.CompleteAdding();
            toApply.CompleteAdding();
        }
    }

    private static Digest Hash(BlockingCollection<Chunk> toHash, BlockingCollection<byte[]> free, CancellationToken stop)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in toHash.GetConsumingEnumerable(stop))
        {
            hash.AppendData(chunk.Buffer.AsSpan(Headroom, chunk.Length));
            chunk.Release(free);
        }

        return Digest.FromSha256Hash(hash.GetHashAndReset());
    }

    private static void Apply(LayerApplier applier, BlockingCollection<Chunk> toApply, BlockingCollection<byte[]> free, CancellationToken stop)
    {
        var parser = new TarStreamParser(applier);
        Span<byte> carry = stackalloc byte[Headroom];
        int carried = 0;
        foreach (var chunk in toApply.GetConsumingEnumerable(stop))
        {
            int start = Headroom - carried;
            carry[..carried].CopyTo(chunk.Buffer.AsSpan(start));
            var sequence = new ReadOnlySequence<byte>(chunk.Buffer, start, carried + chunk.Length);
            var consumed = parser.Process(sequence, isFinal: false);
            var rest = sequence.Slice(consumed);
            carried = (int)rest.Length;
            rest.CopyTo(carry);
            chunk.Release(free);
        }

        stop.ThrowIfCancellationRequested();
        parser.Process(new ReadOnlySequence<byte>(carry[..carried].ToArray()), isFinal: true);
    }

    private static int Read(Stream tar, Span<byte> buffer, LayerCompression compression)
    {
        try
        {
            return tar.Read(buffer);
        }
        catch (Exception exception) when (exception is InvalidDataException or ZstdSharp.ZstdException)
        {
            throw new InvalidLayerException(
                null,
                $"the {compression.ToString().ToLowerInvariant()} stream is corrupt ({exception.Message}); check the blob's media type and digest",
                exception);
        }
    }

    private static void CheckQuota(long uncompressed, long compressed, SnapshotStoreOptions limits)
    {
        if (uncompressed > limits.MaxLayerSize)
        {
            throw new InvalidLayerException(
                null,
                $"the uncompressed layer exceeds the {limits.MaxLayerSize}-byte limit (SnapshotStoreOptions.MaxLayerSize)");
        }

        if (uncompressed > limits.RatioCheckThreshold && uncompressed > limits.MaxCompressionRatio * Math.Max(compressed, 1))
        {
            throw new InvalidLayerException(
                null,
                $"the layer expands more than {limits.MaxCompressionRatio}:1 (a decompression bomb?); raise SnapshotStoreOptions.MaxCompressionRatio if it is legitimate");
        }
    }

    /// <summary>One filled buffer, handed to the hasher and the applier; back to the free ring when both are done.</summary>
    private sealed class Chunk(byte[] buffer, int length)
    {
        private int _users = 2;

        public byte[] Buffer { get; } = buffer;

        public int Length { get; } = length;

        public void Release(BlockingCollection<byte[]> free)
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                free.Add(Buffer, CancellationToken.None);
            }
        }
    }
}
