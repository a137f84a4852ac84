using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Linux;

/// <summary>
/// Opens a file that someone else controls for reading without the traps a plain <c>open</c> has: <c>O_NONBLOCK</c>
/// so a FIFO (or a tty, or a device) cannot block the caller forever, optionally <c>O_NOFOLLOW</c> so a symlink in
/// the last component is refused, then <c>fstat</c> (statx on the fd) so only a regular file is returned.
/// </summary>
internal static unsafe class UntrustedFile
{
    /// <summary>S_IFREG.</summary>
    public const uint SIfReg = 0x8000;

    /// <summary>O_NONBLOCK: 04000 on x86 and the asm-generic architectures alike.</summary>
    private const int ONonBlock = 0x800;

    /// <summary>
    /// Opens <paramref name="path"/> read-only. Returns the handle of a regular file, or an invalid handle with the
    /// errno of the failed open (ELOOP: a symlink and <paramref name="followSymlink"/> is false) or, when the file
    /// opened but is not regular, errno 0 and its <c>S_IFMT</c> type.
    /// </summary>
    public static SafeFileHandle OpenRegular(string path, bool followSymlink, out int errno, out uint fileType)
    {
        fileType = 0;
        byte[] z = Encoding.UTF8.GetBytes(path + "\0");
        int flags = ORdOnly | ONonBlock | OCloExec | ONoCtty | (followSymlink ? 0 : ONoFollow);
        SafeFileHandle handle;
        using (var cwd = new SafeFileHandle(AtFdCwd, ownsHandle: false))
        {
            fixed (byte* p = z)
            {
                handle = Openat(cwd, p, flags, 0);
            }
        }

        if (handle.IsInvalid)
        {
            errno = Marshal.GetLastPInvokeError();
            return handle;
        }

        StatxBuffer stat;
        byte empty = 0;
        if (Statx(handle, &empty, AtEmptyPath, StatxType, &stat) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            return new SafeFileHandle(-1, ownsHandle: true);
        }

        errno = 0;
        fileType = stat.Mode & SIfMt;
        if (fileType != SIfReg)
        {
            handle.Dispose();
            return new SafeFileHandle(-1, ownsHandle: true);
        }

        return handle;
    }

    /// <summary>A word for a non-regular <c>S_IFMT</c> type, for error messages.</summary>
    public static string Describe(uint fileType) => fileType switch
    {
        SIfDir => "a directory",
        SIfIfo => "a FIFO",
        SIfChr => "a character device",
        SIfBlk => "a block device",
        0xC000 => "a socket",
        0xA000 => "a symbolic link",
        _ => "not a regular file",
    };
}
