using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups;

/// <summary>
/// The counter files of one cgroup, opened once and read again with <c>pread</c> at offset 0 (cgroupfs regenerates
/// a file's text on each read from its start): a stats snapshot then costs a read per file, not an open, a read
/// and a close, which is most of a cgroupfs read's cost (a path lookup and a kernfs open per file). Numbers are
/// parsed from the bytes, without a string. Closed with <see cref="Dispose"/>; a read after that, or of a cgroup
/// removed meanwhile, falls back to opening the file (or reads nothing).
/// </summary>
internal sealed class CgroupFiles : IDisposable
{
    private const int ENODEV = 19;
    private readonly Dictionary<(string Dir, string File), SafeFileHandle> _open = [];
    private bool _closed;

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

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        lock (_open)
        {
            _closed = true;
            foreach (var handle in _open.Values)
            {
                handle.Dispose();
            }

            _open.Clear();
        }
    }

    /// <summary>Reads the file from its start into <paramref name="buffer"/>; the length read, or -1 when the file (or its cgroup) is gone.</summary>
    private unsafe int Read(string dir, string file, Span<byte> buffer)
    {
        var handle = Handle(dir, file, out var closed);
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

    private SafeFileHandle? Handle(string dir, string file, out bool closed)
    {
        lock (_open)
        {
            closed = _closed;
            if (_closed)
            {
                return null;
            }

            if (_open.TryGetValue((dir, file), out var handle))
            {
                return handle;
            }

            var fd = LibC.open(Path.Combine(dir, file), LibC.O_CLOEXEC);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno is Errno.ENOENT or Errno.ENOTDIR ? null : throw new IOException($"open {Path.Combine(dir, file)}: {Errno.Name(errno)}");
            }

            handle = new SafeFileHandle(fd, ownsHandle: true);
            _open.Add((dir, file), handle);
            return handle;
        }
    }

    private static int Fallback(string dir, string file, Span<byte> buffer)
    {
        var text = LibC.TryReadText(Path.Combine(dir, file));
        return text is null ? -1 : Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, buffer.Length)), buffer);
    }
}
