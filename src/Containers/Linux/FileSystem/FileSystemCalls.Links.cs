using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>The calls that read what an entry is without following it: its link target and its extended attributes.</summary>
internal static unsafe partial class FileSystemCalls
{
    /// <summary>readlinkat(2); with an empty path it reads the link an <see cref="OPath"/> | <see cref="ONoFollow"/> fd refers to.</summary>
    [LibraryImport(LibC, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint Readlinkat(SafeFileHandle dirFd, byte* path, byte* buffer, nuint size);

    /// <summary>fgetxattr(2): the value's length, or -1 (errno ENODATA when the attribute is not set).</summary>
    [LibraryImport(LibC, EntryPoint = "fgetxattr", SetLastError = true)]
    public static partial nint Fgetxattr(SafeFileHandle fd, byte* name, byte* value, nuint size);
}
