using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// The few file operations every start and delete does in the state directory, as single system calls. A
/// <see cref="FileStream"/> opens with an <c>fstatfs</c>, an advisory <c>flock</c> and an <c>lseek</c> and unlocks
/// again before it closes, and a recursive delete first tries <c>rmdir</c>, then lists the folder: together about
/// thirty calls per start that a state file written once, whole, does not need. Errors are the exceptions .NET's
/// file APIs throw for the same errno, so callers handle both alike.
/// </summary>
internal sealed partial class StateDirectory
{
    private static readonly SafeFileHandle Cwd = new(FileSystemCalls.AtFdCwd, ownsHandle: false);

    /// <summary>Opens <paramref name="path"/> with <c>openat(2)</c>'s <paramref name="flags"/> and, when it creates the file, <paramref name="mode"/>.</summary>
    /// <exception cref="IOException">The call failed; the subclass and message say why, as .NET's file APIs would.</exception>
    public static SafeFileHandle OpenFile(string path, int flags, uint mode) => Open(path, flags, mode, missing: false)!;

    /// <summary>As <see cref="OpenFile"/>, but null when <paramref name="path"/> does not exist.</summary>
    public static SafeFileHandle? TryOpenFile(string path, int flags) => Open(path, flags, 0, missing: true);

    private static unsafe SafeFileHandle? Open(string path, int flags, uint mode, bool missing)
    {
        SafeFileHandle fd;
        fixed (byte* p = DirectoryTree.NulTerminated(path))
        {
            fd = FileSystemCalls.Openat(Cwd, p, flags, mode);
        }

        if (!fd.IsInvalid)
        {
            return fd;
        }

        var errno = Marshal.GetLastPInvokeError();
        fd.Dispose();
        return missing && errno == Errno.ENOENT ? null : throw Error(errno, path);
    }

    /// <summary>Creates <paramref name="path"/> (which must not exist, mode 0600) holding <paramref name="content"/>.</summary>
    private static unsafe void CreateFile(string path, ReadOnlySpan<byte> content)
    {
        using (var fd = OpenFile(path,
            FileSystemCalls.OWrOnly | FileSystemCalls.OCreat | FileSystemCalls.OExcl | FileSystemCalls.OCloExec | FileSystemCalls.ONoFollow,
            0b110_000_000))
        {
            fixed (byte* c = content)
            {
                var done = 0;
                while (done < content.Length)
                {
                    var n = FileSystemCalls.Write(fd, c + done, (nuint)(content.Length - done));
                    if (n < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno != Errno.EINTR)
                        {
                            throw Error(errno, path);
                        }

                        continue;
                    }

                    done += (int)n;
                }
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="from"/> in the place of <paramref name="to"/>, atomically for readers: exchanged with it
    /// (<c>RENAME_EXCHANGE</c>), then the old file, now under <paramref name="from"/>'s name, is removed; renamed over
    /// it when there is none yet or the file system cannot exchange.
    /// </summary>
    /// <remarks>
    /// Not a plain rename over the old file: ext4 (which holds <c>/run</c> where it is no tmpfs) takes a rename
    /// that replaces a file for an editor's save and starts writing the new file's data to disk at once
    /// (<c>auto_da_alloc</c>), which cost about 0.2 ms of CPU and 0.7 to 2 ms of waiting per write on the machine
    /// these were measured on, three times per run; an exchange and an unlink took 0.05 ms. A state file needs no such
    /// care (see <see cref="Replace(string, string, byte[])"/>).
    /// </remarks>
    private static unsafe void Replace(string from, string to)
    {
        fixed (byte* f = DirectoryTree.NulTerminated(from))
        fixed (byte* t = DirectoryTree.NulTerminated(to))
        {
            if (FileSystemCalls.Renameat2(Cwd, f, Cwd, t, FileSystemCalls.RenameExchange) == 0)
            {
                // The old content, under the temporary name. Should the unlink fail, the folder's removal takes it.
                FileSystemCalls.Unlinkat(Cwd, f, 0);
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (Errno.ENOENT or Errno.EINVAL) || FileSystemCalls.Renameat2(Cwd, f, Cwd, t, 0) != 0)
            {
                throw Error(errno is Errno.ENOENT or Errno.EINVAL ? Marshal.GetLastPInvokeError() : errno, to);
            }
        }
    }

    /// <summary>Removes a file, or with <paramref name="directory"/> an empty directory; false when it was not there.</summary>
    /// <exception cref="IOException">Another failure; for a directory that is not empty <see cref="Exception.HResult"/> is <c>ENOTEMPTY</c>.</exception>
    private static unsafe bool Unlink(string path, bool directory = false)
    {
        fixed (byte* p = DirectoryTree.NulTerminated(path))
        {
            if (FileSystemCalls.Unlinkat(Cwd, p, directory ? FileSystemCalls.AtRemoveDir : 0) == 0)
            {
                return true;
            }
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Errno.ENOENT ? false : throw Error(errno, path);
    }

    private static Exception Error(int errno, string path) => errno switch
    {
        Errno.ENOENT => new DirectoryNotFoundException($"{path}: a folder on its path does not exist (ENOENT)"),
        Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException($"{path}: {Errno.Name(errno)}"),
        _ => new IOException($"{path}: {Errno.Name(errno)}", errno),
    };
}
