using System.Runtime.InteropServices;
using System.Text;
using Containers.Images.Commit;
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
/// Without root, a directory the caller may not open or search (one a rootless container's user or a rootless store's
/// layer gave another owner under subordinate ids) is opened with its entries by a child in a user namespace that
/// maps those ids (<see cref="UserNamespaceOpener"/>), one child per such directory; the counting stays here.
/// </remarks>
internal static unsafe class DiskUsage
{
    /// <param name="root">The tree to count.</param>
    /// <param name="opener">Opens what the caller may not, relative to <paramref name="root"/>; null: nothing is opened in a namespace.</param>
    /// <param name="cancellationToken">Stops the walk.</param>
    /// <exception cref="IOException">An entry cannot be inspected (the errno's name says why).</exception>
    /// <exception cref="UnauthorizedAccessException">A directory cannot be read.</exception>
    public static long Of(string root, UserNamespaceOpener? opener, CancellationToken cancellationToken)
    {
        var top = DirectoryTree.OpenDirectory(root);
        if (top.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            top.Dispose();
            return errno == Errno.ENOENT ? 0 : throw Failed(root, errno);
        }

        var linked = new HashSet<(ulong Device, ulong Inode)>();
        var pending = new Stack<(SafeFileHandle Directory, string Relative)>();
        pending.Push((top, ""));
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
                    throw Failed(Path.Combine(root, current.Relative), listed);
                }

                var foreign = new List<byte[]>();
                foreach (var name in names)
                {
                    var relative = current.Relative.Length == 0 ? name : [.. Encoding.UTF8.GetBytes(current.Relative), (byte)'/', .. name];
                    var entry = new byte[name.Length + 1];
                    name.CopyTo(entry, 0);
                    StatxBuffer stat;
                    fixed (byte* p = entry)
                    {
                        if (Statx(directory, p, AtSymlinkNoFollow, Wanted, &stat) != 0)
                        {
                            var errno = Marshal.GetLastPInvokeError();

                            // A running container removed it meanwhile.
                            if (errno == Errno.ENOENT)
                            {
                                continue;
                            }

                            // The directory may be listed (its fd came from the namespace) but not searched.
                            if (errno == Errno.EACCES && opener is not null)
                            {
                                foreign.Add(relative);
                                continue;
                            }

                            throw Failed(Path.Combine(root, Encoding.UTF8.GetString(relative)), errno);
                        }

                        if ((stat.Mode & SIfMt) != SIfDir)
                        {
                            total += Counted(stat, linked);
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

                            if (errno == Errno.EACCES && opener is not null)
                            {
                                foreign.Add(relative);
                                continue;
                            }

                            throw Failed(Path.Combine(root, Encoding.UTF8.GetString(relative)), errno);
                        }

                        pending.Push((child, Encoding.UTF8.GetString(relative)));
                    }
                }

                if (foreign.Count > 0)
                {
                    total += CountForeign(opener!, root, foreign, linked, pending, cancellationToken);
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

    private const uint Wanted = StatxType | StatxNlink | StatxIno | StatxSize;

    /// <summary>Opens <paramref name="entries"/> in the namespace (one child), counts what is not a directory and queues the directories.</summary>
    private static long CountForeign(
        UserNamespaceOpener opener, string root, List<byte[]> entries, HashSet<(ulong, ulong)> linked, Stack<(SafeFileHandle, string)> pending, CancellationToken cancellationToken)
    {
        var fds = new List<SafeFileHandle?>(entries.Count);
        try
        {
            // As the commit reads such a directory: 256 entries per child.
            foreach (var batch in entries.Chunk(256))
            {
                fds.AddRange(opener.OpenOrMissing(batch, cancellationToken));
            }
        }
        catch (ContainersException e)
        {
            fds.ForEach(f => f?.Dispose());
            throw new IOException($"counting the bytes under {root}: {e.Message}", e);
        }

        long total = 0;
        for (int i = 0; i < fds.Count; i++)
        {
            if (fds[i] is not { } fd)
            {
                continue;
            }

            StatxBuffer stat;
            byte empty = 0;
            if (Statx(fd, &empty, AtEmptyPath, Wanted, &stat) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                fds[i..].ForEach(f => f?.Dispose());
                throw Failed(Path.Combine(root, Encoding.UTF8.GetString(entries[i])), errno);
            }

            if ((stat.Mode & SIfMt) == SIfDir)
            {
                pending.Push((fd, Encoding.UTF8.GetString(entries[i])));
                continue;
            }

            total += Counted(stat, linked);
            fd.Dispose();
        }

        return total;
    }

    /// <summary>A non-directory's bytes, 0 for a further link to an inode already counted.</summary>
    private static long Counted(StatxBuffer stat, HashSet<(ulong, ulong)> linked) =>
        stat.Size > 0 && (stat.Nlink == 1 || linked.Add((((ulong)stat.DevMajor << 32) | stat.DevMinor, stat.Ino))) ? (long)stat.Size : 0;

    private static Exception Failed(string path, int errno) => errno is Errno.EACCES or Errno.EPERM
        ? new UnauthorizedAccessException($"counting the bytes under {path}: {Errno.Name(errno)}")
        : new IOException($"counting the bytes under {path}: {Errno.Name(errno)}");
}
