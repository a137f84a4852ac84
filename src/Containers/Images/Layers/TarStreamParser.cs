using System.Buffers;
using System.Text;

namespace Containers.Images.Layers;

/// <summary>
/// An incremental tar decoder: fed the uncompressed stream piece by piece, it hands each entry's header and data to
/// an <see cref="ITarEntryHandler"/> without buffering file contents. It accepts POSIX ustar, PAX (path, linkpath,
/// size, uid, gid, mtime, <c>SCHILY.xattr.*</c>) and GNU long names/links, and rejects what it cannot represent
/// faithfully (sparse files, multi-volume archives, bad checksums, truncation).
/// </summary>
internal sealed class TarStreamParser
{
    private const int BlockSize = 512;

    /// <summary>PAX and GNU long-name payloads are metadata; a larger one is an attack, not a file name.</summary>
    private const int MaxMetadataSize = 1024 * 1024;

    private readonly byte[] _header = new byte[BlockSize];
    private readonly TarEntry _entry = new();
    private readonly ITarEntryHandler _handler;

    private State _state = State.Header;
    private long _remaining;
    private int _padding;
    private byte[]? _metadata;
    private int _metadataLength;
    private TarEntryType _metadataType;
    private byte[]? _longName;
    private byte[]? _longLink;
    private PaxOverrides? _pax;

    public TarStreamParser(ITarEntryHandler handler) => _handler = handler;

    private enum State
    {
        Header,
        Data,
        Metadata,
        Skip,
        Padding,
        End,
    }

    /// <summary>
    /// Decodes as much of <paramref name="buffer"/> as possible and returns how far it consumed. With
    /// <paramref name="isFinal"/> the stream has ended: anything but a clean end is a truncated archive.
    /// </summary>
    public SequencePosition Process(ReadOnlySequence<byte> buffer, bool isFinal)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            switch (_state)
            {
                case State.Header:
                    if (reader.Remaining < BlockSize)
                    {
                        if (isFinal && reader.Remaining > 0)
                        {
                            throw Invalid(null, "the tar stream ends in the middle of a header (truncated archive)");
                        }

                        return reader.Position;
                    }

                    if (!reader.TryCopyTo(_header))
                    {
                        return reader.Position;
                    }

                    reader.Advance(BlockSize);
                    ReadHeader();
                    break;

                case State.Data:
                    if (!Forward(ref reader, static (p, span) => p._handler.Data(span)))
                    {
                        return Incomplete(ref reader, isFinal, "file data");
                    }

                    _handler.EndEntry();
                    EnterPadding();
                    break;

                case State.Metadata:
                    if (!Forward(ref reader, static (p, span) =>
                        {
                            span.CopyTo(p._metadata.AsSpan(p._metadataLength));
                            p._metadataLength += span.Length;
                        }))
                    {
                        return Incomplete(ref reader, isFinal, "an extended header");
                    }

                    FinishMetadata();
                    EnterPadding();
                    break;

                case State.Skip:
                    if (!Forward(ref reader, static (_, _) => { }))
                    {
                        return Incomplete(ref reader, isFinal, "entry data");
                    }

                    EnterPadding();
                    break;

                case State.Padding:
                    int skip = (int)Math.Min(_padding, reader.Remaining);
                    reader.Advance(skip);
                    _padding -= skip;
                    if (_padding > 0)
                    {
                        return Incomplete(ref reader, isFinal, "block padding");
                    }

                    _state = State.Header;
                    break;

                case State.End:
                    // Everything after the end marker is record padding; it still counts for the diff id.
                    reader.Advance(reader.Remaining);
                    return reader.Position;
            }
        }
    }

    private SequencePosition Incomplete(ref SequenceReader<byte> reader, bool isFinal, string what)
    {
        if (isFinal)
        {
            throw Invalid(
                _state == State.Data ? _entry.DisplayName : null,
                $"the tar stream ends in the middle of {what}: the archive is truncated or an entry's size is wrong");
        }

        return reader.Position;
    }

    private bool Forward(ref SequenceReader<byte> reader, SpanAction action)
    {
        while (_remaining > 0 && !reader.End)
        {
            var span = reader.UnreadSpan;
            int take = (int)Math.Min(_remaining, span.Length);
            action(this, span[..take]);
            reader.Advance(take);
            _remaining -= take;
        }

        return _remaining == 0;
    }

    private delegate void SpanAction(TarStreamParser parser, ReadOnlySpan<byte> data);

    private void EnterPadding()
    {
        _state = State.Padding;
    }

    private void BeginBody(long size, State state)
    {
        _remaining = size;
        _padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
        _state = size == 0 ? State.Padding : state;
    }

    private void ReadHeader()
    {
        ReadOnlySpan<byte> h = _header;
        if (!h.ContainsAnyExcept((byte)0))
        {
            _state = State.End;
            return;
        }

        VerifyChecksum(h);
        var type = (TarEntryType)h[156];
        long size = ParseNumber(h.Slice(124, 12), "size");
        if (size < 0)
        {
            throw Invalid(Encoding.UTF8.GetString(HeaderName(h)), "negative size");
        }

        switch (type)
        {
            case TarEntryType.PaxExtendedHeader:
            case TarEntryType.GnuLongName:
            case TarEntryType.GnuLongLink:
                if (size > MaxMetadataSize)
                {
                    throw Invalid(Encoding.UTF8.GetString(HeaderName(h)), $"extended header of {size} bytes exceeds the {MaxMetadataSize}-byte limit");
                }

                _metadataType = type;
                _metadata = new byte[size];
                _metadataLength = 0;
                BeginBody(size, State.Metadata);
                if (size == 0)
                {
                    FinishMetadata();
                }

                return;

            case TarEntryType.PaxGlobalHeader:
                // Global records only carry defaults tools agree to ignore for extraction (comments, charset).
                BeginBody(size, State.Skip);
                return;

            case TarEntryType.RegularFileV7:
            case TarEntryType.RegularFile:
            case TarEntryType.ContiguousFile:
            case TarEntryType.HardLink:
            case TarEntryType.SymbolicLink:
            case TarEntryType.CharacterDevice:
            case TarEntryType.BlockDevice:
            case TarEntryType.Directory:
            case TarEntryType.Fifo:
                break;

            default:
                throw Invalid(
                    Encoding.UTF8.GetString(HeaderName(h)),
                    $"unsupported tar entry type '{(char)h[156]}' (sparse, multi-volume and other GNU extensions cannot be applied)");
        }

        var e = _entry;
        e.Type = type;
        e.Xattrs.Clear();
        e.Name = _longName ?? HeaderName(h);
        e.LinkName = _longLink ?? CString(h.Slice(157, 100)).ToArray();
        e.Mode = (uint)(ParseNumber(h.Slice(100, 8), "mode") & 0xFFF);
        e.Uid = ParseNumber(h.Slice(108, 8), "uid");
        e.Gid = ParseNumber(h.Slice(116, 8), "gid");
        e.Size = size;
        e.ModificationSeconds = ParseNumber(h.Slice(136, 12), "mtime");
        e.ModificationNanoseconds = 0;
        bool ustar = h.Slice(257, 5).SequenceEqual("ustar"u8);
        e.DeviceMajor = ustar ? ParseNumber(h.Slice(329, 8), "devmajor") : 0;
        e.DeviceMinor = ustar ? ParseNumber(h.Slice(337, 8), "devminor") : 0;
        _pax?.ApplyTo(e);
        _longName = null;
        _longLink = null;
        _pax = null;

        if (e.Name.Length == 0)
        {
            throw Invalid("", "entry with an empty name");
        }

        if (e.Uid is < 0 or > uint.MaxValue - 1 || e.Gid is < 0 or > uint.MaxValue - 1)
        {
            throw Invalid(e.DisplayName, $"owner {e.Uid}:{e.Gid} is outside the valid uid/gid range");
        }

        if (e.Size < 0)
        {
            throw Invalid(e.DisplayName, "negative size");
        }

        _handler.BeginEntry(e);
        if (e.HasData)
        {
            BeginBody(e.Size, State.Data);
            if (e.Size == 0)
            {
                _handler.EndEntry();
            }
        }
        else
        {
            _handler.EndEntry();
            _state = State.Header;
        }
    }

    private void FinishMetadata()
    {
        byte[] data = _metadata!;
        _metadata = null;
        switch (_metadataType)
        {
            case TarEntryType.GnuLongName:
                _longName = CString(data).ToArray();
                break;
            case TarEntryType.GnuLongLink:
                _longLink = CString(data).ToArray();
                break;
            default:
                _pax = PaxOverrides.Parse(data);
                break;
        }
    }

    private byte[] HeaderName(ReadOnlySpan<byte> h)
    {
        var name = CString(h[..100]);
        // POSIX ustar splits long names into prefix + name; GNU tar uses the prefix field for other data.
        bool posix = h.Slice(257, 6).SequenceEqual("ustar\0"u8);
        var prefix = posix ? CString(h.Slice(345, 155)) : default;
        if (prefix.IsEmpty)
        {
            return name.ToArray();
        }

        byte[] full = new byte[prefix.Length + 1 + name.Length];
        prefix.CopyTo(full);
        full[prefix.Length] = (byte)'/';
        name.CopyTo(full.AsSpan(prefix.Length + 1));
        return full;
    }

    private void VerifyChecksum(ReadOnlySpan<byte> h)
    {
        long stored = ParseNumber(h.Slice(148, 8), "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : h[i];
            unsigned += b;
            signed += (sbyte)b;
        }

        if (stored != unsigned && stored != signed)
        {
            throw Invalid(
                Encoding.UTF8.GetString(CString(h[..100])),
                "header checksum mismatch: the stream is not a tar archive or it is corrupt");
        }
    }

    private long ParseNumber(ReadOnlySpan<byte> field, string what)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256: big-endian two's complement; we accept only non-negative values that fit in 63 bits.
            if (field[0] == 0xFF)
            {
                throw Invalid(Encoding.UTF8.GetString(CString(_header.AsSpan(0, 100))), $"negative {what} in base-256 encoding");
            }

            long value = field[0] & 0x7F;
            for (int i = 1; i < field.Length; i++)
            {
                if (value > (long.MaxValue >> 8))
                {
                    throw Invalid(Encoding.UTF8.GetString(CString(_header.AsSpan(0, 100))), $"{what} overflows 63 bits");
                }

                value = (value << 8) | field[i];
            }

            return value;
        }

        long result = 0;
        int index = 0;
        while (index < field.Length && field[index] == (byte)' ')
        {
            index++;
        }

        for (; index < field.Length; index++)
        {
            byte c = field[index];
            if (c is 0 or (byte)' ')
            {
                break;
            }

            if (c is < (byte)'0' or > (byte)'7' || result > (long.MaxValue >> 3))
            {
                throw Invalid(
                    Encoding.UTF8.GetString(CString(_header.AsSpan(0, 100))),
                    $"the {what} field is not a valid octal number");
            }

            result = (result << 3) | (uint)(c - '0');
        }

        return result;
    }

    internal static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }

    internal static InvalidLayerException Invalid(string? entry, string reason) => new(entry, reason);
}
