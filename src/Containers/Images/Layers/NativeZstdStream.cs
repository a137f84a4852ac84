using System.Runtime.InteropServices;
using Containers.Linux;

namespace Containers.Images.Layers;

/// <summary>
/// A read-only zstd decompression stream over the system's libzstd. Measured here it decompresses about three times
/// faster than the managed port, which made it the slowest stage of a zstd layer apply; the managed port remains
/// the fallback where libzstd.so.1 is missing.
/// </summary>
internal sealed unsafe class NativeZstdStream : Stream
{
    private const int InputSize = 128 * 1024;

    private readonly Stream _inner;
    private readonly byte[] _input = GC.AllocateUninitializedArray<byte>(InputSize, pinned: true);
    private nint _stream;
    private int _inputLength;
    private int _inputPosition;
    private nuint _lastResult;
    private bool _innerEnded;

    private NativeZstdStream(Stream inner)
    {
        _inner = inner;
        _stream = LibZstd.CreateDStream();
        if (_stream == 0)
        {
            throw new OutOfMemoryException("ZSTD_createDStream failed");
        }

        Check(LibZstd.InitDStream(_stream));
    }

    /// <summary>A decompressing stream: native when libzstd is present, else ZstdSharp.</summary>
    public static Stream Open(Stream inner) =>
        LibZstd.Available ? new NativeZstdStream(inner) : new ZstdSharp.DecompressionStream(inner, leaveOpen: true);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_stream == 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        fixed (byte* output = buffer)
        fixed (byte* input = _input)
        {
            while (true)
            {
                if (_inputPosition == _inputLength && !_innerEnded)
                {
                    _inputLength = _inner.Read(_input, 0, InputSize);
                    _inputPosition = 0;
                    _innerEnded = _inputLength == 0;
                }

                if (_inputPosition == _inputLength && _innerEnded && _lastResult == 0)
                {
                    // End of input between frames: the stream is complete.
                    return 0;
                }

                var inBuffer = new LibZstd.Buffer { Data = input, Size = (nuint)_inputLength, Position = (nuint)_inputPosition };
                var outBuffer = new LibZstd.Buffer { Data = output, Size = (nuint)buffer.Length, Position = 0 };
                _lastResult = Check(LibZstd.DecompressStream(_stream, &outBuffer, &inBuffer));
                _inputPosition = (int)inBuffer.Position;
                if (outBuffer.Position > 0)
                {
                    return (int)outBuffer.Position;
                }

                if (_inputPosition == _inputLength && _innerEnded)
                {
                    // A non-zero hint means the last frame wants more input: the stream was cut short.
                    return _lastResult == 0 ? 0 : throw new InvalidDataException("the zstd stream is truncated");
                }
            }
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_stream != 0)
        {
            LibZstd.FreeDStream(_stream);
            _stream = 0;
        }

        base.Dispose(disposing);
    }

    private static nuint Check(nuint result) =>
        LibZstd.IsError(result) != 0
            ? throw new InvalidDataException($"zstd: {Marshal.PtrToStringUTF8(LibZstd.GetErrorName(result))}")
            : result;
}
