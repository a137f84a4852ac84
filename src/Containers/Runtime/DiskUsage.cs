using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// The bytes a directory tree holds, counted as Docker counts a layer's size: the size of everything but
/// directories (a symlink's is the length of its target), a file with several hard links once (busybox's applets are
/// one file linked hundreds of times).
/// </summary>
/// <remarks>
/// The walk goes through directory fds: each entry is inspected relative to its directory's fd without following a
/// link, and a subdirectory is opened from it with <c>O_NOFOLLOW</c>. A running container that swaps a directory for a
/// symbolic link while it is counted makes that open fail (the entry is skipped), never leads the walk out of the tree.
/// </remarks>
internal static unsafe class DiskUsage
{
    /// <exception cref="IOException">An entry cannot be inspected (the errno's name says why).</exception>
    /// <exception cref="UnauthorizedAccessException">A directory cannot be read.</exception>
    public static long Of(string root, CancellationToken cancellationToken)
    {
        var top = DirectoryTree.OpenDirectory(root);
        if (top.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            top.Dispose();
            return errno == Errno.ENOENT ? 0 : throw Failed(root, errno);
        }

        var linked = new HashSet<(ulong Device, ulong Inode)>();
        var pending = new Stack<(SafeFileHandle Directory, string Path)>();
        pending.Push((top, root));
        long total = 0;
        try
        {
            while (pending.TryPop(out var current))
            {
                using var directory = current.Directory;
                cancellationToken.ThrowIfCancellationRequested();
                var names = new List<byte[]>();
                if (DirectoryTree.ListNames(directory, names) is var listed and not 0)
                {
                    throw Failed(current.Path, listed);
                }

                foreach (var name in names)
                {
                    var entry = new byte[name.Length + 1];
                    name.CopyTo(entry, 0);
                    StatxBuffer stat;
                    fixed (byte* p = entry)
                    {
                        if (Statx(directory, p, AtSymlinkNoFollow, StatxType | StatxNlink | StatxIno | StatxSize, &stat) != 0)
                        {
                            var errno = Marshal.GetLastPInvokeError();

                            // A running container removed it meanwhile.
                            if (errno == Errno.ENOENT)
                            {
                                continue;
                            }

                            throw Failed(Path.Combine(current.Path, System.Text.Encoding.UTF8.GetString(name)), errno);
                        }

                        if ((stat.Mode & SIfMt) != SIfDir)
                        {
                            if (stat.Size > 0 && (stat.Nlink == 1 || linked.Add((((ulong)stat.DevMajor << 32) | stat.DevMinor, stat.Ino))))
                            {
                                total += (long)stat.Size;
                            }

                            continue;
                        }

                        var child = Openat(directory, p, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
                        if (child.IsInvalid)
                        {
                            var errno = Marshal.GetLastPInvokeError();
                            child.Dispose();

                            // Removed, or swapped for a link or a file, since it was inspected: not counted.
                            if (errno is Errno.ENOENT or Errno.ELOOP or Errno.ENOTDIR)
                            {
                                continue;
                            }

                            throw Failed(Path.Combine(current.Path, System.Text.Encoding.UTF8.GetString(name)), errno);
                        }

                        pending.Push((child, Path.Combine(current.Path, System.Text.Encoding.UTF8.GetString(name))));
                    }
                }
            }
        }
        finally
        {
            while (pending.TryPop(out var left))
            {
                left.Directory.Dispose();
            }
        }

        return total;
    }

    private static Exception Failed(string path, int errno) => errno is Errno.EACCES or Errno.EPERM
        ? new UnauthorizedAccessException($"counting the bytes under {path}: {Errno.Name(errno)}")
        : new IOException($"counting the bytes under {path}: {Errno.Name(errno)}");
}
