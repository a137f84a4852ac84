using System.Runtime.InteropServices;

namespace Containers.FuzzTests;

internal static unsafe partial class Native
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 1;

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkfifo(string path, uint mode);

    /// <summary>True for a regular file (not a FIFO, device, socket, directory or symlink), by statx without following links.</summary>
    public static bool IsRegularFile(string path)
    {
        byte* buffer = stackalloc byte[256];
        return Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) == 0 && (*(ushort*)(buffer + 28) & 0xF000) == 0x8000;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);
}
