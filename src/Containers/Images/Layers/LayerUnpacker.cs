using System.IO.Compression;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Containers.Images.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Containers.Images.Layers;

/// <summary>
/// Applies one layer blob into a directory with two threads: one decompresses and hashes (the diff id is the sha256
/// of the uncompressed stream), the other parses tar and creates files. A bounded pipe between them keeps memory
/// flat whatever the layer's size; file contents are written straight from the pipe's buffers.
/// </summary>
internal static class LayerUnpacker
{
    private const int ChunkSize = 256 * 1024;

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
            LayerCompression.Zstd => new ZstdSharp.DecompressionStream(counting, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown layer compression"),
        };

        await using (tar.ConfigureAwait(false))
        {
            var pipe = new Pipe(new PipeOptions(
                pauseWriterThreshold: 16 * ChunkSize * 4,
                resumeWriterThreshold: 8 * ChunkSize * 4,
                minimumSegmentSize: ChunkSize,
                useSynchronizationContext: false));
            var producer = Task.Run(
                () => ProduceAsync(tar, counting, compression, pipe.Writer, limits, cancellationToken),
                cancellationToken);

            using var applier = new LayerApplier(root, options, logger);
            var parser = new TarStreamParser(applier);
            try
            {
                while (true)
                {
                    var read = await pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var buffer = read.Buffer;
                    var consumed = parser.Process(buffer, read.IsCompleted);
                    pipe.Reader.AdvanceTo(consumed, buffer.End);
                    if (read.IsCompleted)
                    {
                        break;
                    }
                }

                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                await pipe.Reader.CompleteAsync(exception).ConfigureAwait(false);
                try
                {
                    await producer.ConfigureAwait(false);
                }
                catch (Exception) when (!producer.IsCompletedSuccessfully)
                {
                    // The consumer's error is the one to report; the producer only stopped because of it.
                }

                throw;
            }

            var (diffId, size) = await producer.ConfigureAwait(false);
            applier.Complete();
            counting.ReportFinal();
            return new LayerUnpackResult(diffId, size, counting.BytesRead, applier.EntryCount);
        }
    }

    private static async Task<(Digest DiffId, long Size)> ProduceAsync(
        Stream tar,
        CountingStream compressed,
        LayerCompression compression,
        PipeWriter writer,
        SnapshotStoreOptions limits,
        CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        try
        {
            bool end = false;
            while (!end)
            {
                var memory = writer.GetMemory(ChunkSize);
                int filled = 0;
                while (filled < memory.Length)
                {
                    int read = await ReadAsync(tar, memory[filled..], compression, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        end = true;
                        break;
                    }

                    filled += read;
                }

                if (filled == 0)
                {
                    break;
                }

                hash.AppendData(memory.Span[..filled]);
                total += filled;
                CheckQuota(total, compressed.BytesRead, limits);
                writer.Advance(filled);
                var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            await writer.CompleteAsync(exception).ConfigureAwait(false);
            throw;
        }

        return (Digest.FromSha256Hash(hash.GetHashAndReset()), total);
    }

    private static async ValueTask<int> ReadAsync(
        Stream tar, Memory<byte> memory, LayerCompression compression, CancellationToken cancellationToken)
    {
        try
        {
            return await tar.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
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
}
