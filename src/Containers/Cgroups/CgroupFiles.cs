using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups;

/// <summary>
/// The files of one cgroup, each opened once: limits written with one write call each (and <c>tasks</c> handed to a starting child), and
/// counters read again with <c>pread</c> at offset 0 (cgroupfs regenerates
/// a file's text on each read from its start): a stats snapshot then costs a read per file, not an open, a read
/// and a close, which is most of a cgroupfs read's cost (a path lookup and a kernfs open per file). Numbers are
/// parsed from the bytes, without a string. Each directory is held by an <c>O_PATH</c> handle, and its files are
/// opened from it (<c>openat</c>): one lookup of a name, not of the whole path below <c>/sys/fs/cgroup</c>; and a
/// directory renamed (<see cref="MoveTo"/>) keeps its handles. Closed with <see cref="Dispose"/>; a read after that,
/// or of a cgroup removed meanwhile, falls back to opening the file (or reads nothing).
/// </summary>
internal sealed class CgroupFiles : IDisposable
{
    private const int ENODEV = 19;
    private const int O_WRONLY = 1;
    private readonly Dictionary<string, OpenDirectory> _dirs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _closed;

    /// <summary>
    /// Writes <paramref name="value"/> through a handle kept open (opened on first use, or ahead by
    /// <see cref="OpenAhead"/>): one write call, without the path lookup and kernfs open that are most of a cgroupfs
    /// write's cost. A file that cannot be opened so (missing, refused, or the files closed) is written the ordinary
    /// way, which reports why.
    /// </summary>
    /// <exception cref="CgroupException">The kernel refused it; the message names the file, the value and <paramref name="field"/>.</exception>
    public unsafe void Write(string dir, string file, string value, string? field)
    {
        var handle = Handle(dir, file, writable: true, out _, quiet: true);
        if (handle is null)
        {
            CgroupFile.Write(dir, file, value, field);
            return;
        }

        var bytes = Encoding.ASCII.GetBytes(value);
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            nint n;
            fixed (byte* p = bytes)
            {
                // cgroupfs takes each write call whole, whatever the file position.
                n = LibC.write((int)handle.DangerousGetHandle(), p, bytes.Length);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var path = Path.Combine(dir, file);
                throw new CgroupException(field, $"writing '{value}' to {path} failed: {Errno.Describe(errno)}", new IOException($"write {path}: {Errno.Name(errno)}", errno));
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile by Dispose: write it the ordinary way.
            CgroupFile.Write(dir, file, value, field);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Writes a number as the kernel reads it.</summary>
    public void Write(string dir, string file, long value, string? field) =>
        Write(dir, file, value.ToString(CultureInfo.InvariantCulture), field);

    /// <summary>
    /// Opens files ahead: <paramref name="written"/> for <see cref="Write(string, string, string, string?)"/>, <paramref name="read"/> for the reads,
    /// so that a start only writes and reads them (a pooled cgroup's files, opened on the pool's thread). Files the
    /// kernel lacks are skipped.
    /// </summary>
    public void OpenAhead(string dir, ReadOnlySpan<string> written, ReadOnlySpan<string> read)
    {
        foreach (var file in written)
        {
            Handle(dir, file, writable: true, out _, quiet: true);
        }

        foreach (var file in read)
        {
            Handle(dir, file, writable: false, out _, quiet: true);
        }
    }

    /// <summary>
    /// A handle of the caller's own on <paramref name="file"/>, open for writing (<paramref name="writable"/>) or
    /// reading: a duplicate of the one kept open, opened now if it is not yet.
    /// </summary>
    /// <exception cref="CgroupException">The file cannot be opened.</exception>
    public SafeFileHandle Open(string dir, string file, bool writable)
    {
        lock (_gate)
        {
            if (Handle(dir, file, writable, out _, quiet: true) is { } kept)
            {
                var copy = LibC.fcntl((int)kept.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 3);
                if (copy >= 0)
                {
                    return new SafeFileHandle(copy, ownsHandle: true);
                }
            }
        }

        // Closed, or the kept directory is gone: by path, which says why it cannot be opened.
        var path = Path.Combine(dir, file);
        var fd = LibC.open(path, (writable ? O_WRONLY : LibC.O_RDONLY) | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new CgroupException(null, $"opening {path} failed: {Errno.Describe(errno)}", new IOException($"open {path}: {Errno.Name(errno)}", errno));
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Whether <c>cgroup.procs</c> of <paramref name="dir"/> lists a process, read afresh (opened for this read): one
    /// kept open answers from the pid list it built first, for as long as it is read again within a second. False
    /// when the directory is gone.
    /// </summary>
    /// <exception cref="IOException">The kernel refused the open or the read.</exception>
    public unsafe bool HasProcesses(string dir)
    {
        int fd;
        lock (_gate)
        {
            if (_closed)
            {
                fd = LibC.open(Path.Combine(dir, "cgroup.procs"), LibC.O_CLOEXEC);
            }
            else if (KeptDirectory(dir, quiet: false) is { } entry)
            {
                fd = LibC.openat((int)entry.Fd.DangerousGetHandle(), "cgroup.procs", LibC.O_CLOEXEC);
            }
            else
            {
                return false;
            }
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Errno.ENOENT or Errno.ENOTDIR ? false : throw new IOException($"open {Path.Combine(dir, "cgroup.procs")}: {Errno.Name(errno)}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        byte* buffer = stackalloc byte[16];
        var n = LibC.read(fd, buffer, 16);
        return n >= 0 ? n > 0 : throw new IOException($"read {Path.Combine(dir, "cgroup.procs")}: {Errno.Name(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>The file's text without its trailing newline, or null when it does not exist.</summary>
    /// <exception cref="IOException">The kernel refused the read (for example a pressure file with PSI off).</exception>
    public string? TryRead(string dir, string file)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            var length = Read(dir, file, buffer);
            return length < 0 ? null : Encoding.ASCII.GetString(buffer, 0, length).TrimEnd('\n');
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A file holding one number, or null when it is missing or says <c>max</c>.</summary>
    public long? TryReadNumber(string dir, string file)
    {
        Span<byte> buffer = stackalloc byte[64];
        var length = Read(dir, file, buffer);
        return length > 0 && Utf8Parser.TryParse(buffer[..length].Trim((byte)' '), out long value, out _) ? value : null;
    }

    /// <summary>The value of <paramref name="key"/> in a flat keyed file (<c>key value</c> lines), or null.</summary>
    public long? TryReadKey(string dir, string file, string key)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = Read(dir, file, buffer);
            return length < 0 ? null : Key(buffer.AsSpan(0, length), key);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The value of <paramref name="key"/> (ASCII) in flat-keyed text, or null.</summary>
    public static long? Key(ReadOnlySpan<byte> text, string key)
    {
        while (!text.IsEmpty)
        {
            var end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            text = end < 0 ? [] : text[(end + 1)..];
            var space = line.IndexOf((byte)' ');
            if (space == key.Length && Ascii.Equals(line[..space], key)
                && Utf8Parser.TryParse(line[(space + 1)..].Trim((byte)' '), out long value, out _))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// Hands the directory <paramref name="fromDir"/> and its files kept open here to <paramref name="target"/>, under
    /// <paramref name="toDir"/>, the directory's new name (a cgroup v1 directory renamed keeps its files, and the
    /// directory's handle follows it): the target reads and writes them with no open, and this reads them no more (a
    /// read here opens by path, and finds nothing).
    /// </summary>
    public void MoveTo(CgroupFiles target, string fromDir, string toDir)
    {
        lock (_gate)
        {
            lock (target._gate)
            {
                if (_dirs.Remove(fromDir, out var entry) && (target._closed || !target._dirs.TryAdd(toDir, entry)))
                {
                    entry.Dispose();
                }
            }
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            foreach (var entry in _dirs.Values)
            {
                entry.Dispose();
            }

            _dirs.Clear();
        }
    }

    /// <summary>Reads the file from its start into <paramref name="buffer"/>; the length read, or -1 when the file (or its cgroup) is gone.</summary>
    private unsafe int Read(string dir, string file, Span<byte> buffer)
    {
        var handle = Handle(dir, file, writable: false, out var closed, quiet: false);
        if (handle is null)
        {
            return closed ? Fallback(dir, file, buffer) : -1;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.pread((int)handle.DangerousGetHandle(), p, buffer.Length, 0);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno == ENODEV ? -1 : throw new IOException($"read {Path.Combine(dir, file)}: {Errno.Name(errno)}");
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile by Dispose: read it the ordinary way.
            return Fallback(dir, file, buffer);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// The open handle of the file, for writing or reading, opened from its directory's handle on first use; null
    /// when it or its directory is missing (or, <paramref name="quiet"/>, cannot be opened) or the files are closed.
    /// </summary>
    private SafeFileHandle? Handle(string dir, string file, bool writable, out bool closed, bool quiet)
    {
        lock (_gate)
        {
            closed = _closed;
            if (_closed || KeptDirectory(dir, quiet) is not { } entry)
            {
                return null;
            }

            var handles = writable ? entry.Written : entry.Read;
            if (handles.TryGetValue(file, out var handle))
            {
                return handle;
            }

            var fd = LibC.openat((int)entry.Fd.DangerousGetHandle(), file, (writable ? O_WRONLY : LibC.O_RDONLY) | LibC.O_CLOEXEC);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return quiet || errno is Errno.ENOENT or Errno.ENOTDIR ? null : throw new IOException($"open {Path.Combine(dir, file)}: {Errno.Name(errno)}");
            }

            handle = new SafeFileHandle(fd, ownsHandle: true);
            handles.Add(file, handle);
            return handle;
        }
    }

    /// <summary>The kept directory <paramref name="dir"/>, opened (<c>O_PATH</c>) on first use; null when it is missing (or, <paramref name="quiet"/>, cannot be opened). Called holding the lock.</summary>
    private OpenDirectory? KeptDirectory(string dir, bool quiet)
    {
        if (_dirs.TryGetValue(dir, out var entry))
        {
            return entry;
        }

        var fd = LibC.open(dir, FileSystemCalls.OPath | FileSystemCalls.ODirectory | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return quiet || errno is Errno.ENOENT or Errno.ENOTDIR ? null : throw new IOException($"open {dir}: {Errno.Name(errno)}");
        }

        entry = new OpenDirectory(new SafeFileHandle(fd, ownsHandle: true));
        _dirs.Add(dir, entry);
        return entry;
    }

    private static int Fallback(string dir, string file, Span<byte> buffer)
    {
        var text = LibC.TryReadText(Path.Combine(dir, file));
        return text is null ? -1 : Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, buffer.Length)), buffer);
    }

    /// <summary>A directory's handle and the handles of its files opened from it, for writing and for reading.</summary>
    private sealed class OpenDirectory(SafeFileHandle fd) : IDisposable
    {
        public SafeFileHandle Fd { get; } = fd;

        public Dictionary<string, SafeFileHandle> Written { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, SafeFileHandle> Read { get; } = new(StringComparer.Ordinal);

        public void Dispose()
        {
            foreach (var handle in Written.Values.Concat(Read.Values))
            {
                handle.Dispose();
            }

            Fd.Dispose();
        }
    }
}
