using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>TIOCSWINSZ on a pseudo-terminal master: the kernel sends SIGWINCH to the terminal's foreground group.</summary>
internal static partial class TerminalWindowSize
{
    // TIOCSWINSZ is 0x5414 on x86_64 and arm64 alike (asm-generic ioctls).
    private const uint TIOCSWINSZ = 0x5414;

    public static void Set(SafeFileHandle master, ushort columns, ushort rows)
    {
        var size = new WinSize { Rows = rows, Columns = columns };
        if (ioctl(master, TIOCSWINSZ, ref size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ContainersException($"resizing the terminal failed: {Errno.Name(errno)} ({Errno.Describe(errno)})");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(SafeFileHandle fd, uint request, ref WinSize size);

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }
}
