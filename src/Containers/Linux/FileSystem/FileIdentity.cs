using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Linux;

/// <summary>
/// A file's device and inode numbers: what tells an open file from the one a path names now, after a rename put
/// another file there (a rotated log).
/// </summary>
/// <param name="DevMajor">The major number of the device the file is on.</param>
/// <param name="DevMinor">The minor number of the device the file is on.</param>
/// <param name="Inode">The inode number.</param>
internal readonly unsafe record struct FileIdentity(uint DevMajor, uint DevMinor, ulong Inode)
{
    /// <summary>The identity of an open file.</summary>
    /// <exception cref="IOException">statx failed.</exception>
    public static FileIdentity Of(SafeFileHandle file) => Of(file, out _);

    /// <summary>The identity of an open file, and its size, from one <c>statx</c>.</summary>
    /// <exception cref="IOException">statx failed.</exception>
    public static FileIdentity Of(SafeFileHandle file, out long size)
    {
        StatxBuffer stat;
        byte empty = 0;
        if (Statx(file, &empty, AtEmptyPath, StatxIno | StatxSize, &stat) != 0)
        {
            throw new IOException($"statx of an open file: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        size = (long)stat.Size;
        return new FileIdentity(stat.DevMajor, stat.DevMinor, stat.Ino);
    }

    /// <summary>The identity of the file <paramref name="path"/> names now (not following a last symlink), or null when there is none.</summary>
    /// <exception cref="IOException">statx failed for another reason than a missing file.</exception>
    public static FileIdentity? OfPath(string path)
    {
        var z = Encoding.UTF8.GetBytes(path + "\0");
        StatxBuffer stat;
        int result;
        using (var cwd = new SafeFileHandle(AtFdCwd, ownsHandle: false))
        {
            fixed (byte* p = z)
            {
                result = Statx(cwd, p, AtSymlinkNoFollow, StatxIno, &stat);
            }
        }

        if (result == 0)
        {
            return new FileIdentity(stat.DevMajor, stat.DevMinor, stat.Ino);
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == Errno.ENOENT ? null : throw new IOException($"statx {path}: {Errno.Name(errno)}");
    }
}
