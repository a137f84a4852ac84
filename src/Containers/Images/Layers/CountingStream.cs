namespace Containers.Images.Layers;

/// <summary>A read-only pass-through that counts the compressed bytes read and reports them as progress.</summary>
internal sealed class CountingStream : Stream
{
    private const long ReportInterval = 1 << 20;

    private readonly Stream _inner;
    private readonly IProgress<long>? _progress;
    private long _lastReport;

    public CountingStream(Stream inner, IProgress<long>? progress)
    {
        _inner = inner;
        _progress = progress;
    }

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(_inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(_inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reports the final count (the last report may be up to 1 MiB behind).</summary>
    public void ReportFinal() => _progress?.Report(BytesRead);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        BytesRead += read;
        if (_progress is not null && BytesRead - _lastReport >= ReportInterval)
        {
            _lastReport = BytesRead;
            _progress.Report(BytesRead);
        }

        return read;
    }
}
