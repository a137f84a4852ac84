using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>The few libc calls the launcher needs beyond the shim; each sets the last P/Invoke error.</summary>
internal static unsafe partial class LibC
{
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLONESHOT = 1u << 30;

    /// <summary>Urgent data; on a kernfs (cgroup) file: the file changed since it was last read.</summary>
    public const uint EPOLLPRI = 0x2;
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int WNOHANG = 1;

    public const short POLLIN = 0x1;

    /// <summary>poll(2): the other end is closed (a pipe's writers have all gone).</summary>
    public const short POLLHUP = 0x10;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    /// <summary>fcntl(2): a duplicate of the fd, close-on-exec, numbered at least the argument.</summary>
    public const int F_DUPFD_CLOEXEC = 1030;

    /// <summary>fcntl(2) with an int argument (F_GETFL, F_SETFL, F_DUPFD_CLOEXEC).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    /// <summary>prctl(2) with all four arguments (unused ones zero); acts on the calling thread where the option is per thread.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>gettid(2): the calling thread's id (the process id on its main thread).</summary>
    [LibraryImport("libc")]
    public static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeout);

    /// <summary>unshare(2): moves the calling thread (only it, for a namespace type a thread may hold) into new namespaces.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    /// <summary>setns(2) for the calling thread.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    /// <summary>openat(2): <paramref name="path"/> looked up from the directory <paramref name="dirFd"/>, not from the root (one component, for a file of a kept directory).</summary>
    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    /// <summary>
    /// mkdir(2) of one directory, unlike <see cref="Directory.CreateDirectory(string)"/>, which also makes missing
    /// parents: false when the parent does not exist; true when made or already there.
    /// </summary>
    public static bool MakeDirectory(string path, uint mode = 0x1ed)
    {
        const int EEXIST = 17, ENOENT = 2;
        if (mkdir(path, mode) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            EEXIST => true,
            ENOENT => false,
            _ => throw new IOException($"mkdir {path}: {Errno.Describe(errno)}", errno),
        };
    }

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string oldPath, string newPath);

    /// <summary>rename(2), without <see cref="Directory.Move(string, string)"/>'s checks (a cgroup v1 directory renames only within its parent).</summary>
    /// <exception cref="IOException">The kernel refused it.</exception>
    public static void Rename(string from, string to)
    {
        if (rename(from, to) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"rename {from} to {to}: {Errno.Describe(errno)}", errno);
        }
    }

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statfs(string path, byte* buffer);

    public const int O_RDONLY = 0;

    /// <summary>The filesystem type magic (<c>f_type</c> of statfs(2)) of the filesystem holding <paramref name="path"/>, or null when it cannot be read.</summary>
    public static long? FileSystemType(string path)
    {
        // struct statfs is 120 bytes on 64-bit Linux; f_type is its first field, a long.
        byte* buffer = stackalloc byte[256];
        return statfs(path, buffer) == 0 ? *(long*)buffer : null;
    }

    /// <summary>Opens a directory (for example a cgroup's, for CLONE_INTO_CGROUP) read-only and close-on-exec.</summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        var fd = open(path, O_RDONLY | FileSystemCalls.ODirectory | O_CLOEXEC);
        if (fd < 0)
        {
            throw new ContainersException($"opening {path} failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial uint getegid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    /// <summary>
    /// The owner and mode (with file type bits) of <paramref name="path"/> itself, not following a final symlink;
    /// null when it does not exist. statx's layout is the same on every architecture.
    /// </summary>
    public static (uint Uid, uint Mode)? OwnerAndMode(string path)
    {
        const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
        const uint STATX_MODE = 0x2, STATX_UID = 0x8;
        var name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var buffer = stackalloc byte[256];
        fixed (byte* p = name)
        {
            if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_MODE | STATX_UID, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == Errno.ENOENT ? null : throw new IOException($"statx {path}: {Errno.Name(errno)}");
            }
        }

        return (*(uint*)(buffer + 20), *(ushort*)(buffer + 28));
    }

    /// <summary>
    /// The mode (with file type bits) and device numbers (<c>st_rdev</c>) of <paramref name="path"/>, links followed;
    /// null when it does not exist.
    /// </summary>
    public static (uint Mode, uint Major, uint Minor)? DeviceNumbers(string path)
    {
        const int AT_FDCWD = -100;
        const uint STATX_TYPE = 0x1, STATX_MODE = 0x2;
        var name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var buffer = stackalloc byte[256];
        fixed (byte* p = name)
        {
            if (statx(AT_FDCWD, p, 0, STATX_TYPE | STATX_MODE, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == Errno.ENOENT ? null : throw new IOException($"statx {path}: {Errno.Name(errno)}");
            }
        }

        // struct statx: stx_mode at 28, stx_rdev_major at 128, stx_rdev_minor at 132.
        return (*(ushort*)(buffer + 28), *(uint*)(buffer + 128), *(uint*)(buffer + 132));
    }

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    /// <summary>A close-on-exec, non-blocking eventfd (eventfd(2)) starting at 0.</summary>
    public static SafeFileHandle EventFd()
    {
        const int EFD_NONBLOCK = 0x800;
        var fd = eventfd(0, O_CLOEXEC | EFD_NONBLOCK);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true)
            : throw new ContainersException($"eventfd failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>Reads and so resets an eventfd's counter; 0 when it was not signaled.</summary>
    public static ulong ReadEventFd(SafeFileHandle fd)
    {
        ulong value = 0;
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            return read((int)fd.DangerousGetHandle(), (byte*)&value, sizeof(ulong)) == sizeof(ulong) ? value : 0;
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    /// <summary>
    /// The text of a small kernel file (a cgroup's counters), read with open, read and close only: no stat, no
    /// lock and no stream buffers, since stats poll many of them. Null when it does not exist.
    /// </summary>
    /// <exception cref="IOException">The kernel refused the open or the read (for example EOPNOTSUPP from a pressure file with PSI off).</exception>
    public static string? TryReadText(string path) =>
        TryReadAll(path, static bytes => System.Text.Encoding.ASCII.GetString(bytes), deniedIsUnauthorized: false);

    /// <summary>
    /// The bytes of a small file (a container's <c>state.json</c>), read as <see cref="TryReadText"/> reads: a
    /// listing reads one per container, and a <c>FileStream</c> costs more than the read. Null when it, or a folder
    /// of its path, does not exist.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">The open was refused (EACCES, EPERM), as <c>File.ReadAllBytes</c> says it.</exception>
    /// <exception cref="IOException">Another error of the open or the read.</exception>
    public static byte[]? TryReadBytes(string path) =>
        TryReadAll(path, static bytes => bytes.ToArray(), deniedIsUnauthorized: true);

    private static T? TryReadAll<T>(string path, Func<ReadOnlySpan<byte>, T> convert, bool deniedIsUnauthorized)
        where T : class
    {
        var fd = open(path, O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or Errno.ENOTDIR)
            {
                return null;
            }

            throw deniedIsUnauthorized && errno is Errno.EACCES or Errno.EPERM
                ? new UnauthorizedAccessException($"open {path}: {Errno.Name(errno)}")
                : new IOException($"open {path}: {Errno.Name(errno)}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                nint n;
                fixed (byte* p = &buffer[length])
                {
                    n = read(fd, p, buffer.Length - length);
                }

                if (n == 0)
                {
                    return convert(buffer.AsSpan(0, length));
                }

                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Errno.EINTR)
                    {
                        throw new IOException($"read {path}: {Errno.Name(errno)}");
                    }

                    continue;
                }

                length += (int)n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Opens <paramref name="path"/> read-only and close-on-exec, with no lock (a cgroup file to watch).</summary>
    public static SafeFileHandle OpenReadOnly(string path)
    {
        var fd = open(path, O_CLOEXEC);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true)
            : throw new IOException($"open {path}: {Errno.Name(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>Creates a pipe whose ends are close-on-exec.</summary>
    public static (SafeFileHandle Read, SafeFileHandle Write) Pipe(int extraFlags = 0)
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC | extraFlags) != 0)
        {
            throw new ContainersException($"pipe2 failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>Creates a connected pair of close-on-exec Unix stream sockets (used to pass a pty master).</summary>
    public static (SafeFileHandle Parent, SafeFileHandle Child) SocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw new ContainersException($"socketpair failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
