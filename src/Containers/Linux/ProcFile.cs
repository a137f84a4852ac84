using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// Writes to a file of a process's <c>/proc/PID/</c> (<c>uid_map</c>, <c>setgroups</c>, <c>oom_score_adj</c>) through an
/// fd checked to be on procfs: the last component is not followed and the opened file's filesystem is read with
/// <c>fstatfs</c> before a byte is written. The host's <c>/proc</c> is out of every container's reach, so this is the
/// second wall, not the first: a write meant for procfs never lands on another filesystem, whatever is mounted where
/// (the class of CVE-2025-52881, where a runtime's procfs writes were redirected to other files).
/// </summary>
internal static unsafe partial class ProcFile
{
    private const long ProcSuperMagic = 0x9fa0;
    private const int O_WRONLY = 0x1;
    private const int O_NOFOLLOW = 0x20000;

    /// <summary>Writes <paramref name="content"/> to <c>/proc/<paramref name="pid"/>/<paramref name="name"/></c> in one write.</summary>
    /// <exception cref="IOException">The file cannot be opened or written, or is not on procfs; the message says which.</exception>
    public static void Write(int pid, string name, string content)
    {
        var path = $"/proc/{pid}/{name}";
        var fd = LibC.open(path, O_WRONLY | O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw Failure("opening", path, Marshal.GetLastPInvokeError());
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var buffer = stackalloc byte[256]; // struct statfs is 120 bytes on 64-bit Linux; f_type is its first field
        if (fstatfs(fd, buffer) != 0)
        {
            throw Failure("checking the filesystem of", path, Marshal.GetLastPInvokeError());
        }

        if (*(long*)buffer != ProcSuperMagic)
        {
            throw new IOException($"{path} is not on procfs (statfs type 0x{*(long*)buffer:x}): refusing to write to it");
        }

        // One write: procfs takes a map or a value only whole, at offset 0.
        var bytes = Encoding.ASCII.GetBytes(content);
        fixed (byte* p = bytes)
        {
            var written = LibC.write(fd, p, bytes.Length);
            if (written < 0)
            {
                throw Failure("writing", path, Marshal.GetLastPInvokeError());
            }

            if (written != bytes.Length)
            {
                throw new IOException($"writing {path}: {written} of {bytes.Length} bytes were taken");
            }
        }
    }

    private static IOException Failure(string what, string path, int errno) =>
        new($"{what} {path} failed: {Errno.Name(errno)} ({Errno.Describe(errno)})");

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fstatfs(int fd, byte* buffer);
}
