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
/// parsed from the bytes, without a string. Closed with <see cref="Dispose"/>; a read after that, or of a cgroup
/// removed meanwhile, falls back to opening the file (or reads nothing).
/// </summary>
internal sealed class CgroupFiles : IDisposable
{
    private const int ENODEV = 19;
    private const int O_WRONLY = 1;
    private readonly Dictionary<(string Dir, string File), SafeFileHandle> _open = [];
    private readonly Dictionary<(string Dir, string File), SafeFileHandle> _writable = [];
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
        var handle = Handle(_writable, dir, file, O_WRONLY | LibC.O_CLOEXEC, out _, quiet: true);
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
            Handle(_writable, dir, file, O_WRONLY | LibC.O_CLOEXEC, out _, quiet: true);
        }

        foreach (var file in read)
        {
            Handle(_open, dir, file, LibC.O_CLOEXEC, out _, quiet: true);
        }
    }

    /// <summary>
    /// A handle of the caller's own on <paramref name="file"/>, open for writing: a duplicate of the one kept open
    /// (<see cref="OpenAhead"/>), which costs no path lookup, or else opened now.
    /// </summary>
    /// <exception cref="CgroupException">The file cannot be opened.</exception>
    public SafeFileHandle OpenForWriting(string dir, string file)
    {
        lock (_open)
        {
            if (!_closed && _writable.TryGetValue((dir, file), out var kept))
            {
                var copy = LibC.fcntl((int)kept.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 3);
                if (copy >= 0)
                {
                    return new SafeFileHandle(copy, ownsHandle: true);
                }
            }
        }

        var path = Path.Combine(dir, file);
        var fd = LibC.open(path, O_WRONLY | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new CgroupException(null, $"opening {path} failed: {Errno.Describe(errno)}", new IOException($"open {path}: {Errno.Name(errno)}", errno));
        }

        return new SafeFileHandle(fd, ownsHandle: true);
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
    /// Hands the files of <paramref name="fromDir"/> kept open here to <paramref name="target"/>, under
    /// <paramref name="toDir"/>, the directory's new name (a cgroup v1 directory renamed keeps its files): the target
    /// reads and writes them with no open, and this reads them no more (a read here opens by path, and finds nothing).
    /// </summary>
    public void MoveTo(CgroupFiles target, string fromDir, string toDir)
    {
        lock (_open)
        {
            lock (target._open)
            {
                Move(_open, target._open);
                Move(_writable, target._writable);
            }
        }

        void Move(Dictionary<(string Dir, string File), SafeFileHandle> from, Dictionary<(string Dir, string File), SafeFileHandle> to)
        {
            foreach (var key in from.Keys.Where(k => k.Dir == fromDir).ToList())
            {
                if (target._closed || !to.TryAdd((toDir, key.File), from[key]))
                {
                    from[key].Dispose();
                }

                from.Remove(key);
            }
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        lock (_open)
        {
            _closed = true;
            foreach (var handle in _open.Values.Concat(_writable.Values))
            {
                handle.Dispose();
            }

            _open.Clear();
            _writable.Clear();
        }
    }

    /// <summary>Reads the file from its start into <paramref name="buffer"/>; the length read, or -1 when the file (or its cgroup) is gone.</summary>
    private unsafe int Read(string dir, string file, Span<byte> buffer)
    {
        var handle = Handle(_open, dir, file, LibC.O_CLOEXEC, out var closed, quiet: false);
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

    /// <summary>The open handle of the file in <paramref name="handles"/>, opened with <paramref name="flags"/> on first use; null when it is missing (or, <paramref name="quiet"/>, cannot be opened) or the files are closed.</summary>
    private SafeFileHandle? Handle(Dictionary<(string Dir, string File), SafeFileHandle> handles, string dir, string file, int flags, out bool closed, bool quiet)
    {
        lock (_open)
        {
            closed = _closed;
            if (_closed)
            {
                return null;
            }

            if (handles.TryGetValue((dir, file), out var handle))
            {
                return handle;
            }

            var fd = LibC.open(Path.Combine(dir, file), flags);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return quiet || errno is Errno.ENOENT or Errno.ENOTDIR ? null : throw new IOException($"open {Path.Combine(dir, file)}: {Errno.Name(errno)}");
            }

            handle = new SafeFileHandle(fd, ownsHandle: true);
            handles.Add((dir, file), handle);
            return handle;
        }
    }

    private static int Fallback(string dir, string file, Span<byte> buffer)
    {
        var text = LibC.TryReadText(Path.Combine(dir, file));
        return text is null ? -1 : Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, buffer.Length)), buffer);
    }
}
