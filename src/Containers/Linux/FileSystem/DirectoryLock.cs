using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Linux;

/// <summary>
/// An exclusive <c>flock</c> on a directory itself, for work that may remove the directory while holding it. A lock
/// file inside would not do: a remover unlinks it with the rest, and a waiter that opens it with <c>O_CREAT</c> then
/// holds a new file's lock while it puts that file into the directory being emptied (the remover's <c>rmdir</c>
/// fails with <c>ENOTEMPTY</c>). Opening the directory creates nothing, and a waiter that gets the lock of a
/// directory removed meanwhile sees it unlinked (no links left).
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    private readonly SafeFileHandle _directory;

    private DirectoryLock(SafeFileHandle directory) => _directory = directory;

    /// <summary>
    /// Takes the lock of <paramref name="path"/> when nobody holds it: <c>Free</c> is false while someone does;
    /// <c>Lock</c> is null when the directory is gone (or was removed by the holder before it).
    /// </summary>
    /// <exception cref="ContainersIOException">The directory could not be opened or locked for another reason.</exception>
    public static (bool Free, DirectoryLock? Lock) TryAcquire(string path)
    {
        var directory = DirectoryTree.OpenDirectory(path);
        if (directory.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            directory.Dispose();
            // ENOTDIR: a file where a parent should be; there is no such directory either.
            return errno is Errno.ENOENT or Errno.ENOTDIR ? (true, null) : throw Failed("open", path, errno);
        }

        int result;
        while ((result = Flock(directory, LockEx | LockNb)) != 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }

        if (result != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            directory.Dispose();
            return errno == Errno.EAGAIN ? (false, null) : throw Failed("lock", path, errno);
        }

        if (IsRemoved(directory))
        {
            directory.Dispose();
            return (true, null);
        }

        return (true, new DirectoryLock(directory));
    }

    /// <summary>Waits for and takes the lock of <paramref name="path"/>; null when the directory is gone.</summary>
    /// <exception cref="ContainersIOException">The directory could not be opened or locked for another reason.</exception>
    public static async Task<DirectoryLock?> AcquireAsync(string path, CancellationToken cancellationToken)
    {
        // Polled with backoff, as FileLock does: a blocking flock would not honour cancellation.
        var delay = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (free, held) = TryAcquire(path);
            if (free)
            {
                return held;
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _directory.Dispose();

    private static unsafe bool IsRemoved(SafeFileHandle directory)
    {
        StatxBuffer stat;
        byte empty = 0;
        return Statx(directory, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) == 0 && stat.Nlink == 0;
    }

    private static ContainersIOException Failed(string what, string path, int errno) =>
        new($"{what} of the directory {path} for its lock failed: {Errno.Name(errno)} ({Errno.Describe(errno)}): check that it is a directory the caller may read", path, null);
}
