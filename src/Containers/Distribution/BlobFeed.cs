using Containers.Images.Store;
using Microsoft.Win32.SafeHandles;

namespace Containers.Distribution;

/// <summary>
/// A layer blob on its way into the store, readable while it downloads, so that one large layer is unpacked while it
/// streams instead of after it. The reader gets what the downloader has written and waits for more; it ends only once
/// the download is complete and its digest verified, and a failed download fails it with the download's error.
/// Nothing read here is trusted: the snapshot it feeds is published only after the download succeeded and the
/// applier found the layer's diff id (see <see cref="ImagePuller"/>).
/// </summary>
internal sealed class BlobFeed : IDisposable
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _readable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _size;
    private SafeFileHandle? _file;
    private long _written;
    private bool _verified;
    private Exception? _failure;

    public BlobFeed(long size) => _size = size;

    /// <summary>The download began writing into a file; <paramref name="file"/> is a read handle of it, now owned here.</summary>
    public void Started(SafeFileHandle file)
    {
        lock (_gate)
        {
            _file = file;
        }

        _readable.TrySetResult();
    }

    /// <summary>The file holds <paramref name="written"/> bytes; fewer than before when the download started over.</summary>
    public void Advanced(long written)
    {
        lock (_gate)
        {
            _written = written;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The whole blob is written, its digest verified and it is published into the store.</summary>
    public void Verified()
    {
        lock (_gate)
        {
            _verified = true;
            Monitor.PulseAll(_gate);
        }

        _readable.TrySetResult();
    }

    /// <summary>The download failed: readers fail with <paramref name="error"/>.</summary>
    public void Failed(Exception error)
    {
        lock (_gate)
        {
            _failure ??= error;
            Monitor.PulseAll(_gate);
        }

        _readable.TrySetResult();
    }

    /// <summary>Waits until there is something to open: a download under way, or the blob in the store.</summary>
    public Task WhenReadableAsync(CancellationToken cancellationToken) => _readable.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Opens the blob for one sequential reader: the download as it grows when one is under way, else the stored blob
    /// (another writer stored it, or it was there already).
    /// </summary>
    public async Task<Stream> OpenAsync(ContentStore content, Images.Digest digest, CancellationToken cancellationToken)
    {
        await WhenReadableAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw new IOException($"the download of blob {digest} failed: {_failure.Message}", _failure);
            }

            if (_file is null)
            {
                return content.OpenRead(digest);
            }
        }

        return new Reader(this, cancellationToken);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
        }
    }

    /// <summary>Waits until bytes past <paramref name="position"/> are written (returns how many), the end is verified (0), or the download failed.</summary>
    private long WaitFor(long position, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Ready(position) is { } ready)
            {
                return ready;
            }
        }

        // Registered only when there is a wait: most reads find their bytes written already.
        using var wake = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        });
        lock (_gate)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Ready(position) is { } ready)
                {
                    return ready;
                }

                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>Under the lock: what <see cref="WaitFor"/> returns now, or null to wait.</summary>
    private long? Ready(long position)
    {
        if (_failure is not null)
        {
            throw new IOException($"the download failed: {_failure.Message}", _failure);
        }

        if (_written > position)
        {
            return _written - position;
        }

        return _verified && position >= _size ? 0 : null;
    }

    /// <summary>Reads the file sequentially at the pace of the download (blocking reads, on the applier's own thread).</summary>
    private sealed class Reader(BlobFeed feed, CancellationToken cancellationToken) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                long available = feed.WaitFor(_position, cancellationToken);
                if (available == 0)
                {
                    return 0;
                }

                // A download that started over may have truncated the file since: then nothing is read, and the
                // next wait lasts until the new bytes reach this position again.
                int read = RandomAccess.Read(feed._file!, buffer[..(int)Math.Min(buffer.Length, available)], _position);
                if (read > 0)
                {
                    _position += read;
                    return read;
                }
            }

            return 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
