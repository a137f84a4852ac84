using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Containers.Images.Commit;

/// <summary>
/// A write-only stream that gzips what it is given on all cores, as pigz does: the input is cut into 1 MiB chunks,
/// each compressed on the thread pool as an independent gzip member, and the members are written to the output in
/// order. Concatenated members are one valid gzip stream (RFC 1952 §2.2) that every gzip reader expands to the
/// whole input. The sha256 of the input (a layer's diff id) and of the output (its digest) are computed on the way,
/// the first on a chain of pool tasks so that hashing overlaps the producer, the second as members are written.
/// </summary>
internal sealed class ParallelGzipStream : LayerCompressor
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Room for a chunk that does not compress: stored blocks add 5 bytes per 64 KiB, plus the gzip framing.</summary>
    private const int OutputSize = ChunkSize + (ChunkSize / 64) + 4096;

    private readonly Stream _output;
    private readonly CompressionLevel _level;
    private readonly int _maxInFlight;
    private readonly Queue<Chunk> _inFlight = new();
    private readonly IncrementalHash _uncompressedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _compressedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Task _hashed = Task.CompletedTask;
    private byte[] _current = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _filled;

    public ParallelGzipStream(Stream output, CompressionLevel level)
    {
        _output = output;
        _level = level;
        _maxInFlight = Math.Max(2, Environment.ProcessorCount * 2);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Completed, this);
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, ChunkSize - _filled);
            buffer[..n].CopyTo(_current.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
            if (_filled == ChunkSize)
            {
                Submit();
            }
        }
    }

    /// <summary>Compresses what is left, writes every member and returns the two digests.</summary>
    public override (Digest Uncompressed, Digest Compressed) Complete()
    {
        if (_filled > 0)
        {
            Submit();
        }

        while (_inFlight.Count > 0)
        {
            Drain();
        }

        Completed = true;
        _hashed.GetAwaiter().GetResult();
        return (Digest.FromSha256Hash(_uncompressedHash.GetHashAndReset()), Digest.FromSha256Hash(_compressedHash.GetHashAndReset()));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Completed = true;
            // A failed or cancelled commit still waits for its pool work, so no task writes into a returned buffer.
            foreach (var chunk in _inFlight)
            {
                chunk.Compressed?.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            }

            _hashed.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            while (_inFlight.TryDequeue(out var chunk))
            {
                chunk.Release();
            }

            ArrayPool<byte>.Shared.Return(_current);
            _current = [];
            _uncompressedHash.Dispose();
            _compressedHash.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Submit()
    {
        var chunk = new Chunk(_current, _filled, ArrayPool<byte>.Shared.Rent(OutputSize));
        var level = _level;
        chunk.Compressed = Task.Run(() => chunk.Compress(level));
        var hash = _uncompressedHash;
        _hashed = _hashed.ContinueWith(
            previous =>
            {
                previous.GetAwaiter().GetResult();
                hash.AppendData(chunk.Input, 0, chunk.InputLength);
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        chunk.Hashed = _hashed;
        UncompressedLength += _filled;
        _inFlight.Enqueue(chunk);
        _current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        _filled = 0;
        while (_inFlight.Count >= _maxInFlight)
        {
            Drain();
        }
    }

    private void Drain()
    {
        var chunk = _inFlight.Peek();
        int length = chunk.Compressed!.GetAwaiter().GetResult();
        chunk.Hashed!.GetAwaiter().GetResult();
        _inFlight.Dequeue();
        try
        {
            _compressedHash.AppendData(chunk.Output, 0, length);
            _output.Write(chunk.Output, 0, length);
            CompressedLength += length;
        }
        finally
        {
            chunk.Release();
        }
    }

    private sealed class Chunk(byte[] input, int inputLength, byte[] output)
    {
        public byte[] Input { get; } = input;

        public int InputLength { get; } = inputLength;

        public byte[] Output { get; } = output;

        public Task<int>? Compressed { get; set; }

        public Task? Hashed { get; set; }

        public int Compress(CompressionLevel level)
        {
            using var memory = new MemoryStream(Output, 0, Output.Length, writable: true, publiclyVisible: false);
            using (var gzip = new GZipStream(memory, level, leaveOpen: true))
            {
                gzip.Write(Input, 0, InputLength);
            }

            return (int)memory.Position;
        }

        public void Release()
        {
            ArrayPool<byte>.Shared.Return(Input);
            ArrayPool<byte>.Shared.Return(Output);
        }
    }
}
