using System.Runtime.InteropServices;

namespace Containers.Cli;

/// <summary>
/// The terminal this command runs in, put in raw mode while a container's terminal is attached (as <c>docker run -t</c>
/// does): keys, Ctrl-C included, go to the container byte for byte, and the container's terminal echoes. Disposing
/// restores the saved settings; <c>run</c> disposes on every way out, including the signals it forwards.
/// </summary>
internal sealed partial class HostTerminal : IDisposable
{
    // glibc's struct termios is 60 bytes; the buffer is opaque to us: tcgetattr fills it, cfmakeraw edits it.
    private const int TermiosSize = 64;
    private const int TcsaNow = 0;
    private readonly byte[] _saved;
    private int _restored;

    private HostTerminal(byte[] saved) => _saved = saved;

    /// <summary>Raw mode on fd 0 when it is a terminal; null (nothing to restore) otherwise.</summary>
    public static unsafe HostTerminal? EnterRawMode()
    {
        var saved = new byte[TermiosSize];
        var raw = new byte[TermiosSize];
        fixed (byte* s = saved)
        fixed (byte* r = raw)
        {
            if (IsATty(0) == 0 || TcGetAttr(0, s) != 0)
            {
                return null;
            }

            Buffer.MemoryCopy(s, r, TermiosSize, TermiosSize);
            CfMakeRaw(r);
            if (TcSetAttr(0, TcsaNow, r) != 0)
            {
                throw new IOException($"cannot put the terminal in raw mode: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        return new HostTerminal(saved);
    }

    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0)
        {
            fixed (byte* s = _saved)
            {
                _ = TcSetAttr(0, TcsaNow, s);
            }
        }
    }

    /// <summary>
    /// fd 0 or 1 as a plain stream of bytes. Not <see cref="Console.OpenStandardInput()"/>: on a terminal .NET reads
    /// it a line at a time with its own echo, which would be a second, cooked terminal in front of the container's.
    /// </summary>
    public static FileStream Open(int fd, FileAccess access) =>
        new(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), access, bufferSize: 0);

    /// <summary>
    /// Whether a terminal this command writes to or reads from has hung up: on a hung-up terminal (its window closed,
    /// the pseudo-terminal's master gone) every <c>ioctl</c> fails with <c>EIO</c>, while a file or pipe fails with
    /// <c>ENOTTY</c> and a live terminal answers. The kernel switches the open files over before it sends SIGHUP, so a
    /// SIGHUP handler sees it.
    /// </summary>
    public static unsafe bool IsHungUp()
    {
        var termios = stackalloc byte[TermiosSize];
        for (var fd = 0; fd <= 2; fd++)
        {
            if (TcGetAttr(fd, termios) != 0 && Marshal.GetLastPInvokeError() == EIo)
            {
                return true;
            }
        }

        return false;
    }

    private const int EIo = 5;

    /// <summary>The window size of the terminal on <paramref name="fd"/>, read fresh (TIOCGWINSZ), or null when it is none.</summary>
    public static unsafe (ushort Columns, ushort Rows)? WindowSize(int fd)
    {
        // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
        var size = stackalloc ushort[4];
        return IoctlWinSize(fd, TiocGWinSz, size) == 0 && size[0] > 0 && size[1] > 0 ? (size[1], size[0]) : null;
    }

    // TIOCGWINSZ: the same number on x86-64 and on the generic ioctl layout arm64 uses.
    private const ulong TiocGWinSz = 0x5413;

    [LibraryImport("libc", EntryPoint = "ioctl")]
    private static unsafe partial int IoctlWinSize(int fd, ulong request, ushort* size);

    [LibraryImport("libc", EntryPoint = "isatty")]
    private static partial int IsATty(int fd);

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static unsafe partial int TcGetAttr(int fd, byte* termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static unsafe partial int TcSetAttr(int fd, int optionalActions, byte* termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    private static unsafe partial void CfMakeRaw(byte* termios);
}
