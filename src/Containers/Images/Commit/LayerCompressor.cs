namespace Containers.Images.Commit;

/// <summary>
/// A write-only stream that compresses a layer's tar into a blob and hashes both sides on the way. Subclasses
/// compress (<see cref="Write(ReadOnlySpan{byte})"/>, <see cref="Complete"/>); this holds what every such stream shares.
/// </summary>
internal abstract class LayerCompressor : Stream
{
    /// <summary>Bytes written into the stream (the uncompressed layer).</summary>
    public long UncompressedLength { get; protected set; }

    /// <summary>Bytes written to the output (the compressed blob).</summary>
    public long CompressedLength { get; protected set; }

    /// <summary>Whether <see cref="Complete"/> has written the end (or the stream was disposed): no more writes.</summary>
    protected bool Completed { get; set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !Completed;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Writes what is left and the end of the stream; returns the sha256 of the input (the diff id) and of the output (the blob's digest).</summary>
    public abstract (Digest Uncompressed, Digest Compressed) Complete();

    public abstract override void Write(ReadOnlySpan<byte> buffer);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
