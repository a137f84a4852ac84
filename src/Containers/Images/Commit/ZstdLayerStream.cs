using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Containers.Linux;

namespace Containers.Images.Commit;

/// <summary>
/// A write-only stream that compresses a layer with the system's libzstd into one zstd frame, on libzstd's own worker
/// threads (<c>ZSTD_c_nbWorkers</c>, one per core), as <c>zstd -T0</c> does; the sha256 of the input (the diff id)
/// and of the output (the blob's digest) are computed on the way.
/// </summary>
internal sealed unsafe class ZstdLayerStream : LayerCompressor
{
    /// <summary>zstd's default level: about gzip -6's ratio at several times its speed.</summary>
    public const int DefaultLevel = 3;

    private readonly Stream _output;
    private readonly IncrementalHash _uncompressedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _compressedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer;
    private nint _context;

    /// <exception cref="ImageCommitException">libzstd.so.1 cannot be loaded.</exception>
    public ZstdLayerStream(Stream output, int level = DefaultLevel)
    {
        if (!LibZstd.Available)
        {
            throw new ImageCommitException("zstd layers need the system's libzstd (libzstd.so.1), which cannot be loaded here: install it (Debian: libzstd1), or commit with gzip");
        }

        _output = output;
        _context = LibZstd.CreateCCtx();
        if (_context == 0)
        {
            throw new OutOfMemoryException("ZSTD_createCCtx failed");
        }

        Check(LibZstd.SetParameter(_context, LibZstd.CompressionLevelParameter, level));

        // A libzstd built without threads refuses workers: it then compresses on this thread, which is still correct.
        _ = LibZstd.SetParameter(_context, LibZstd.WorkersParameter, Environment.ProcessorCount);
        _buffer = new byte[(int)LibZstd.CStreamOutSize()];
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Completed, this);
        _uncompressedHash.AppendData(buffer);
        UncompressedLength += buffer.Length;
        fixed (byte* input = buffer)
        {
            var source = new LibZstd.Buffer { Data = input, Size = (nuint)buffer.Length };
            while (source.Position < source.Size)
            {
                Compress(&source, LibZstd.Continue);
            }
        }
    }

    public override (Digest Uncompressed, Digest Compressed) Complete()
    {
        ObjectDisposedException.ThrowIf(Completed, this);
        var empty = new LibZstd.Buffer();
        while (Compress(&empty, LibZstd.End) != 0)
        {
        }

        Completed = true;
        return (Digest.FromSha256Hash(_uncompressedHash.GetHashAndReset()), Digest.FromSha256Hash(_compressedHash.GetHashAndReset()));
    }

    /// <summary>One call of ZSTD_compressStream2; what it produced goes to the output. Returns what it says is left to flush.</summary>
    private nuint Compress(LibZstd.Buffer* source, int directive)
    {
        fixed (byte* out_ = _buffer)
        {
            var target = new LibZstd.Buffer { Data = out_, Size = (nuint)_buffer.Length };
            var left = Check(LibZstd.CompressStream2(_context, &target, source, directive));
            if (target.Position > 0)
            {
                var produced = new ReadOnlySpan<byte>(out_, (int)target.Position);
                _compressedHash.AppendData(produced);
                _output.Write(produced);
                CompressedLength += produced.Length;
            }

            return left;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_context != 0)
        {
            LibZstd.FreeCCtx(_context);
            _context = 0;
        }

        if (disposing)
        {
            _uncompressedHash.Dispose();
            _compressedHash.Dispose();
        }

        base.Dispose(disposing);
    }

    private static nuint Check(nuint result) =>
        LibZstd.IsError(result) != 0
            ? throw new ImageCommitException($"zstd compression failed: {Marshal.PtrToStringUTF8(LibZstd.GetErrorName(result))}")
            : result;
}
