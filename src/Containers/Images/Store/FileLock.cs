namespace Containers.Images.Store;

/// <summary>
/// An advisory <c>flock</c> on a lock file, shared or exclusive, released on dispose or when the process dies. .NET
/// takes <c>LOCK_EX</c> for <see cref="FileShare.None"/> and <c>LOCK_SH</c> otherwise (non-blocking); waiting is a
/// polling loop with backoff so that it honours cancellation.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private const int EWOULDBLOCK = 11;

    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static FileLock? TryAcquire(string path, bool exclusive)
    {
        try
        {
            return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, exclusive ? FileShare.None : FileShare.ReadWrite, 1, FileOptions.None));
        }
        catch (IOException e) when (e.HResult == EWOULDBLOCK)
        {
            return null;
        }
    }

    public static async Task<FileLock> AcquireAsync(string path, bool exclusive, CancellationToken cancellationToken)
    {
        int delay = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(path, exclusive) is { } acquired)
            {
                return acquired;
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    public void Dispose() => _stream.Dispose();
}
