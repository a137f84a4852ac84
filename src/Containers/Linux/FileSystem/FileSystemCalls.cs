using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// The *at system calls layer application needs. Every call takes a directory fd and one name (or an empty path
/// with <see cref="AtEmptyPath"/>), so nothing is resolved from the process's working directory. Paths are
/// NUL-terminated UTF-8 (or raw tar) bytes. Calls return -1 and leave errno in
/// <see cref="Marshal.GetLastPInvokeError"/>.
/// </summary>
internal static unsafe partial class FileSystemCalls
{
    private const string LibC = "libc";

    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ONoCtty = 0x100;
    public const int OCloExec = 0x80000;
    public const int OPath = 0x200000;

    /// <summary>O_DIRECTORY: its value differs between x86 and the asm-generic architectures.</summary>
    public static readonly int ODirectory = IsAsmGeneric ? 0x4000 : 0x10000;

    /// <summary>O_NOFOLLOW: its value differs between x86 and the asm-generic architectures.</summary>
    public static readonly int ONoFollow = IsAsmGeneric ? 0x8000 : 0x20000;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtEmptyPath = 0x1000;

    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;
    public const ulong ResolveInRoot = 0x10;

    public const uint RenameNoReplace = 1;
    public const uint RenameExchange = 2;

    public const uint SIfMt = 0xF000;
    public const uint SIfIfo = 0x1000;
    public const uint SIfChr = 0x2000;
    public const uint SIfDir = 0x4000;
    public const uint SIfBlk = 0x6000;
    public const uint SIfReg = 0x8000;
    public const uint SIfLnk = 0xA000;
    public const uint SIfSock = 0xC000;

    public const int LockSh = 1;
    public const int LockEx = 2;
    public const int LockNb = 4;

    public const uint StatxType = 0x1;
    public const uint StatxMode = 0x2;
    public const uint StatxNlink = 0x4;
    public const uint StatxIno = 0x100;
    public const uint StatxSize = 0x200;

    private const long SysOpenat2 = 437;
    private const long SysFchmodat2 = 452;

    private static bool IsAsmGeneric =>
        RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm or Architecture.RiscV64
            or Architecture.LoongArch64;

    /// <summary>openat2(2): opens <paramref name="path"/> beneath <paramref name="dirFd"/> with RESOLVE_* rules.</summary>
    public static SafeFileHandle Openat2(SafeFileHandle dirFd, byte* path, int flags, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)flags, Mode = 0, Resolve = resolve };
        bool added = false;
        try
        {
            dirFd.DangerousAddRef(ref added);
            long fd = SyscallOpenat2(SysOpenat2, (int)dirFd.DangerousGetHandle(), path, &how, (nuint)sizeof(OpenHow));
            return new SafeFileHandle((nint)fd, ownsHandle: true);
        }
        finally
        {
            if (added)
            {
                dirFd.DangerousRelease();
            }
        }
    }

    /// <summary>fchmodat2(2) (Linux 6.6): with <see cref="AtEmptyPath"/> it changes the mode of an O_PATH fd.</summary>
    public static int Fchmodat2(SafeFileHandle fd, byte* path, uint mode, int flags)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return (int)SyscallFchmodat2(SysFchmodat2, (int)fd.DangerousGetHandle(), path, mode, flags);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallOpenat2(long number, int dirFd, byte* path, OpenHow* how, nuint size);

    [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallFchmodat2(long number, int dirFd, byte* path, uint mode, int flags);

    [LibraryImport(LibC, EntryPoint = "openat", SetLastError = true)]
    public static partial SafeFileHandle Openat(SafeFileHandle dirFd, byte* path, int flags, uint mode);

    [LibraryImport(LibC, EntryPoint = "mkdirat", SetLastError = true)]
    public static partial int Mkdirat(SafeFileHandle dirFd, byte* path, uint mode);

    [LibraryImport(LibC, EntryPoint = "mknodat", SetLastError = true)]
    public static partial int Mknodat(SafeFileHandle dirFd, byte* path, uint mode, ulong dev);

    [LibraryImport(LibC, EntryPoint = "symlinkat", SetLastError = true)]
    public static partial int Symlinkat(byte* target, SafeFileHandle dirFd, byte* path);

    [LibraryImport(LibC, EntryPoint = "linkat", SetLastError = true)]
    public static partial int Linkat(SafeFileHandle oldDirFd, byte* oldPath, SafeFileHandle newDirFd, byte* newPath, int flags);

    [LibraryImport(LibC, EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int Unlinkat(SafeFileHandle dirFd, byte* path, int flags);

    [LibraryImport(LibC, EntryPoint = "renameat2", SetLastError = true)]
    public static partial int Renameat2(SafeFileHandle oldDirFd, byte* oldPath, SafeFileHandle newDirFd, byte* newPath, uint flags);

    [LibraryImport(LibC, EntryPoint = "fchownat", SetLastError = true)]
    public static partial int Fchownat(SafeFileHandle dirFd, byte* path, uint uid, uint gid, int flags);

    [LibraryImport(LibC, EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(SafeFileHandle fd, uint uid, uint gid);

    [LibraryImport(LibC, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(SafeFileHandle fd, uint mode);

    [LibraryImport(LibC, EntryPoint = "fchmodat", SetLastError = true)]
    public static partial int Fchmodat(SafeFileHandle dirFd, byte* path, uint mode, int flags);

    [LibraryImport(LibC, EntryPoint = "utimensat", SetLastError = true)]
    public static partial int Utimensat(SafeFileHandle dirFd, byte* path, Timespec* times, int flags);

    [LibraryImport(LibC, EntryPoint = "futimens", SetLastError = true)]
    public static partial int Futimens(SafeFileHandle fd, Timespec* times);

    [LibraryImport(LibC, EntryPoint = "fsetxattr", SetLastError = true)]
    public static partial int Fsetxattr(SafeFileHandle fd, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(LibC, EntryPoint = "fremovexattr", SetLastError = true)]
    public static partial int Fremovexattr(SafeFileHandle fd, byte* name);

    [LibraryImport(LibC, EntryPoint = "lsetxattr", SetLastError = true)]
    public static partial int Lsetxattr(byte* path, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(LibC, EntryPoint = "setxattr", SetLastError = true)]
    public static partial int Setxattr(byte* path, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeFileHandle fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "syncfs", SetLastError = true)]
    public static partial int Syncfs(SafeFileHandle fd);

    [LibraryImport(LibC, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(SafeFileHandle fd);

    [LibraryImport(LibC, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport(LibC, EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(SafeFileHandle dirFd, byte* path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(LibC, EntryPoint = "flistxattr", SetLastError = true)]
    public static partial nint Flistxattr(SafeFileHandle fd, byte* list, nuint size);

    [LibraryImport(LibC, EntryPoint = "fgetxattr", SetLastError = true)]
    public static partial nint Fgetxattr(SafeFileHandle fd, byte* name, byte* value, nuint size);

    [LibraryImport(LibC, EntryPoint = "llistxattr", SetLastError = true)]
    public static partial nint Llistxattr(byte* path, byte* list, nuint size);

    [LibraryImport(LibC, EntryPoint = "lgetxattr", SetLastError = true)]
    public static partial nint Lgetxattr(byte* path, byte* name, byte* value, nuint size);

    [LibraryImport(LibC, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint Readlinkat(SafeFileHandle dirFd, byte* path, byte* buffer, nuint size);

    [LibraryImport(LibC, EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint Getdents64(SafeFileHandle fd, byte* buffer, nuint count);

    /// <summary>glibc's makedev(3): the 64-bit dev_t encoding of a major/minor pair.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        (minor & 0xffUL) | ((major & 0xfffUL) << 8) | ((minor & ~0xffUL) << 12) | ((major & ~0xfffUL) << 32);
}
