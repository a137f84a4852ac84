using System.Buffers;
using System.Globalization;
using System.Text;

namespace Containers.Images.Commit;

/// <summary>
/// Writes upper directory entries as an OCI layer tar: POSIX ustar headers, with a PAX extended header for what
/// ustar cannot hold (long names and link targets, large ids and sizes, xattrs as <c>SCHILY.xattr.NAME</c> with the
/// raw value, as GNU tar and Go's archive/tar write them). Deletions become <c>.wh.NAME</c> entries and an opaque
/// directory is followed by its <c>.wh..wh..opq</c> marker, as the image spec's layer format says.
/// </summary>
internal sealed class LayerTarWriter
{
    private const int BlockSize = 512;
    private const long MaxOctal7 = 0x1FFFFF; // 7 octal digits
    private const long MaxOctal11 = 0x1FFFFFFFF; // 11 octal digits
    private static readonly byte[] WhiteoutPrefix = ".wh."u8.ToArray();
    private static readonly byte[] OpaqueMarker = ".wh..wh..opq"u8.ToArray();

    private readonly Stream _output;
    private readonly byte[] _header = new byte[BlockSize];
    private readonly byte[] _data;

    public LayerTarWriter(Stream output, byte[] dataBuffer)
    {
        _output = output;
        _data = dataBuffer;
    }

    /// <summary>File content bytes written so far.</summary>
    public long ContentBytes { get; private set; }

    public void Write(UpperEntry entry)
    {
        switch (entry.Kind)
        {
            case UpperEntryKind.Whiteout:
                WriteHeader(Prefixed(entry.Path, WhiteoutPrefix), (byte)'0', 0, 0, 0, 0, entry.ModificationSeconds, [], 0, 0, []);
                break;
            case UpperEntryKind.Directory:
                WriteHeader([.. entry.Path, (byte)'/'], (byte)'5', entry.Mode, entry.Uid, entry.Gid, 0, entry.ModificationSeconds, [], 0, 0, entry.Xattrs);
                if (entry.Opaque)
                {
                    WriteHeader([.. entry.Path, (byte)'/', .. OpaqueMarker], (byte)'0', 0, 0, 0, 0, entry.ModificationSeconds, [], 0, 0, []);
                }

                break;
            case UpperEntryKind.RegularFile:
                WriteHeader(entry.Path, (byte)'0', entry.Mode, entry.Uid, entry.Gid, entry.Size, entry.ModificationSeconds, [], 0, 0, entry.Xattrs);
                WriteContent(entry);
                break;
            default:
                byte type = entry.Kind switch
                {
                    UpperEntryKind.HardLink => (byte)'1',
                    UpperEntryKind.Symlink => (byte)'2',
                    UpperEntryKind.CharacterDevice => (byte)'3',
                    UpperEntryKind.BlockDevice => (byte)'4',
                    _ => (byte)'6',
                };
                WriteHeader(entry.Path, type, entry.Mode, entry.Uid, entry.Gid, 0, entry.ModificationSeconds, entry.LinkTarget, entry.DeviceMajor, entry.DeviceMinor, entry.Xattrs);
                break;
        }
    }

    /// <summary>Writes the two zero blocks that end a tar archive.</summary>
    public void Finish()
    {
        Array.Clear(_header);
        _output.Write(_header);
        _output.Write(_header);
    }

    /// <summary><c>dir/NAME</c> → <c>dir/PREFIXNAME</c>.</summary>
    private static byte[] Prefixed(byte[] path, byte[] prefix)
    {
        int slash = Array.LastIndexOf(path, (byte)'/');
        return [.. path.AsSpan(0, slash + 1), .. prefix, .. path.AsSpan(slash + 1)];
    }

    private void WriteContent(UpperEntry entry)
    {
        long offset = 0;
        while (offset < entry.Size)
        {
            int want = (int)Math.Min(_data.Length, entry.Size - offset);
            int read = RandomAccess.Read(entry.Content!, _data.AsSpan(0, want), offset);
            if (read == 0)
            {
                throw new ImageCommitException($"{entry.DisplayPath} shrank while it was committed; stop or pause the container first");
            }

            _output.Write(_data, 0, read);
            offset += read;
        }

        ContentBytes += offset;
        WritePadding(entry.Size);
    }

    private void WritePadding(long size)
    {
        int padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
        if (padding > 0)
        {
            Array.Clear(_header);
            _output.Write(_header, 0, padding);
        }
    }

    private void WriteHeader(byte[] name, byte type, uint mode, uint uid, uint gid, long size, long mtime, byte[] linkName, uint major, uint minor, IReadOnlyList<KeyValuePair<string, byte[]>> xattrs)
    {
        List<(string Key, byte[] Value)>? pax = null;
        void Add(string key, byte[] value) => (pax ??= []).Add((key, value));
        if (name.Length > 100)
        {
            Add("path", name);
        }

        if (linkName.Length > 100)
        {
            Add("linkpath", linkName);
        }

        if (uid > MaxOctal7)
        {
            Add("uid", Encoding.ASCII.GetBytes(uid.ToString(CultureInfo.InvariantCulture)));
        }

        if (gid > MaxOctal7)
        {
            Add("gid", Encoding.ASCII.GetBytes(gid.ToString(CultureInfo.InvariantCulture)));
        }

        if (size > MaxOctal11)
        {
            Add("size", Encoding.ASCII.GetBytes(size.ToString(CultureInfo.InvariantCulture)));
        }

        if (mtime is < 0 or > MaxOctal11)
        {
            Add("mtime", Encoding.ASCII.GetBytes(mtime.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (key, value) in xattrs)
        {
            Add("SCHILY.xattr." + key, value);
        }

        if (pax is not null)
        {
            byte[] records = PaxRecords(pax);
            var trimmed = name.AsSpan().TrimEnd((byte)'/');
            var baseName = trimmed[(trimmed.LastIndexOf((byte)'/') + 1)..];
            byte[] paxName = [.. "PaxHeaders/"u8, .. baseName[..Math.Min(80, baseName.Length)]];
            FillHeader(paxName, (byte)'x', 0x1A4, 0, 0, records.Length, 0, [], 0, 0);
            _output.Write(_header);
            _output.Write(records);
            WritePadding(records.Length);
        }

        FillHeader(name, type, mode, uid, gid, size, mtime, linkName, major, minor);
        _output.Write(_header);
    }

    private void FillHeader(byte[] name, byte type, uint mode, uint uid, uint gid, long size, long mtime, byte[] linkName, uint major, uint minor)
    {
        var h = _header.AsSpan();
        h.Clear();
        name.AsSpan(0, Math.Min(100, name.Length)).CopyTo(h);
        Octal(h.Slice(100, 8), mode);
        Octal(h.Slice(108, 8), uid > MaxOctal7 ? 0 : uid);
        Octal(h.Slice(116, 8), gid > MaxOctal7 ? 0 : gid);
        Octal(h.Slice(124, 12), size > MaxOctal11 ? 0 : size);
        Octal(h.Slice(136, 12), mtime is < 0 or > MaxOctal11 ? 0 : mtime);
        h[156] = type;
        linkName.AsSpan(0, Math.Min(100, linkName.Length)).CopyTo(h[157..]);
        "ustar\0"u8.CopyTo(h[257..]);
        "00"u8.CopyTo(h[263..]);
        if (type is (byte)'3' or (byte)'4')
        {
            Octal(h.Slice(329, 8), major);
            Octal(h.Slice(337, 8), minor);
        }

        h.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in h)
        {
            sum += b;
        }

        Octal(h.Slice(148, 7), sum);
    }

    /// <summary>Writes <paramref name="value"/> as zero-padded octal digits followed by a NUL.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        field[digits] = 0;
    }

    /// <summary>PAX records <c>"LEN KEY=VALUE\n"</c>, where LEN counts the whole record including its own digits.</summary>
    private static byte[] PaxRecords(List<(string Key, byte[] Value)> records)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var (key, value) in records)
        {
            int body = 1 + Encoding.UTF8.GetByteCount(key) + 1 + value.Length + 1;
            int length = body + 1;
            while (length != body + length.ToString(CultureInfo.InvariantCulture).Length)
            {
                length = body + length.ToString(CultureInfo.InvariantCulture).Length;
            }

            Encoding.ASCII.GetBytes(length.ToString(CultureInfo.InvariantCulture), output);
            output.Write(" "u8);
            Encoding.UTF8.GetBytes(key, output);
            output.Write("="u8);
            output.Write(value);
            output.Write("\n"u8);
        }

        return output.WrittenSpan.ToArray();
    }
}
