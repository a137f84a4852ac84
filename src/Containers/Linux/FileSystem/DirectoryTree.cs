using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// Lists and removes directory trees through directory fds (getdents64 + unlinkat), never following a symbolic
/// link: a link inside the tree is removed, not its target.
/// </summary>
internal static unsafe class DirectoryTree
{
    /// <summary>
    /// Adds the names in the directory <paramref name="dir"/> (read from the fd itself, so a directory another
    /// process opened and sent is listed whatever the caller's own rights; <c>.</c> and <c>..</c> left out) to
    /// <paramref name="names"/>. Returns 0 or the errno.
    /// </summary>
    public static int ListNames(SafeFileHandle dir, List<byte[]> names)
    {
        const int BufferSize = 32 * 1024;
        byte* buffer = (byte*)NativeMemory.Alloc(BufferSize);
        try
        {
            while (true)
            {
                nint read = FileSystemCalls.Getdents64(dir, buffer, BufferSize);
                if (read <= 0)
                {
                    return read == 0 ? 0 : Marshal.GetLastPInvokeError();
                }

                // linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
                for (nint offset = 0; offset < read;)
                {
                    byte* record = buffer + offset;
                    offset += *(ushort*)(record + 16);
                    var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(record + 19);
                    if (name is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                    {
                        names.Add(name.ToArray());
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>
    /// Removes <paramref name="name"/> (a directory or any other entry) in <paramref name="parent"/>; a missing entry
    /// is not an error. Returns 0 or the errno of the first failure.
    /// </summary>
    public static int Remove(SafeFileHandle parent, ReadOnlySpan<byte> name)
    {
        Span<byte> z = stackalloc byte[name.Length + 1];
        name.CopyTo(z);
        z[^1] = 0;
        fixed (byte* p = z)
        {
            return RemoveEntry(parent, p, LibC.geteuid() != 0);
        }
    }

    /// <summary>Removes the directory at <paramref name="path"/> (absolute) and everything beneath it.</summary>
    public static int Remove(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        string? parentPath = Path.GetDirectoryName(full);
        if (parentPath is null)
        {
            return Errno.EINVAL;
        }

        using var parent = OpenDirectory(parentPath);
        if (parent.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ENOENT ? 0 : errno;
        }

        return Remove(parent, Encoding.UTF8.GetBytes(Path.GetFileName(full)));
    }

    /// <summary>Opens an existing directory (absolute path) for use as a dirfd; check IsInvalid and errno.</summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        byte[] z = NulTerminated(path);
        fixed (byte* p = z)
        {
            return FileSystemCalls.Openat(
                new SafeFileHandle(FileSystemCalls.AtFdCwd, ownsHandle: false),
                p,
                FileSystemCalls.ORdOnly | FileSystemCalls.ODirectory | FileSystemCalls.OCloExec,
                0);
        }
    }

    /// <summary>The UTF-8 bytes of <paramref name="s"/> followed by a NUL.</summary>
    public static byte[] NulTerminated(string s)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static int RemoveEntry(SafeFileHandle parent, byte* name, bool unprivileged)
    {
        if (FileSystemCalls.Unlinkat(parent, name, 0) == 0)
        {
            return 0;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ENOENT)
        {
            return 0;
        }

        if (errno != Errno.EISDIR)
        {
            return errno;
        }

        // An unprivileged owner cannot list or empty a directory whose mode lacks u+rwx; the mode is ours to change.
        if (unprivileged)
        {
            FileSystemCalls.Fchmodat(parent, name, 0x1C0, FileSystemCalls.AtSymlinkNoFollow);
        }

        using (var dir = FileSystemCalls.Openat(
            parent,
            name,
            FileSystemCalls.ORdOnly | FileSystemCalls.ODirectory | FileSystemCalls.ONoFollow | FileSystemCalls.OCloExec,
            0))
        {
            if (dir.IsInvalid)
            {
                // Gone since the unlink: another remover (a container's owner and 'rm' both clean up) got there first.
                int openErrno = Marshal.GetLastPInvokeError();
                return openErrno == Errno.ENOENT ? 0 : openErrno;
            }

            int result = EmptyDirectory(dir, unprivileged);
            if (result != 0)
            {
                return result;
            }
        }

        if (FileSystemCalls.Unlinkat(parent, name, FileSystemCalls.AtRemoveDir) == 0)
        {
            return 0;
        }

        int removeErrno = Marshal.GetLastPInvokeError();
        return removeErrno == Errno.ENOENT ? 0 : removeErrno;
    }

    private static int EmptyDirectory(SafeFileHandle dir, bool unprivileged)
    {
        const int BufferSize = 32 * 1024;
        byte* buffer = (byte*)NativeMemory.Alloc(BufferSize);
        try
        {
            while (true)
            {
                nint read = FileSystemCalls.Getdents64(dir, buffer, BufferSize);
                if (read < 0)
                {
                    return Marshal.GetLastPInvokeError();
                }

                if (read == 0)
                {
                    return 0;
                }

                // linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
                for (nint offset = 0; offset < read;)
                {
                    byte* record = buffer + offset;
                    ushort length = *(ushort*)(record + 16);
                    byte* entryName = record + 19;
                    offset += length;
                    if (entryName[0] == '.' && (entryName[1] == 0 || (entryName[1] == '.' && entryName[2] == 0)))
                    {
                        continue;
                    }

                    int result = RemoveEntry(dir, entryName, unprivileged);
                    if (result != 0)
                    {
                        return result;
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }
}
