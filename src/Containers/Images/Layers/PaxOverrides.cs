using System.Globalization;
using System.Text;

namespace Containers.Images.Layers;

/// <summary>The records of one PAX extended header ('x') that override the next entry's ustar fields.</summary>
internal sealed class PaxOverrides
{
    private const string XattrPrefix = "SCHILY.xattr.";

    private byte[]? _path;
    private byte[]? _linkPath;
    private long? _size;
    private long? _uid;
    private long? _gid;
    private long? _mtimeSeconds;
    private long _mtimeNanoseconds;
    private long? _devMajor;
    private long? _devMinor;
    private List<KeyValuePair<string, byte[]>>? _xattrs;

    /// <summary>Parses <c>"%d %s=%s\n"</c> records; a malformed record rejects the layer.</summary>
    public static PaxOverrides Parse(ReadOnlySpan<byte> data)
    {
        var pax = new PaxOverrides();
        while (!data.IsEmpty)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length <= space + 1 || length > data.Length || data[length - 1] != (byte)'\n')
            {
                throw new InvalidLayerException(null, "malformed PAX extended header record");
            }

            var record = data[(space + 1)..(length - 1)];
            int equals = record.IndexOf((byte)'=');
            if (equals <= 0)
            {
                throw new InvalidLayerException(null, "malformed PAX extended header record (no '=')");
            }

            pax.Set(Encoding.UTF8.GetString(record[..equals]), record[(equals + 1)..]);
            data = data[length..];
        }

        return pax;
    }

    public void ApplyTo(TarEntry entry)
    {
        if (_path is not null)
        {
            entry.Name = _path;
        }

        if (_linkPath is not null)
        {
            entry.LinkName = _linkPath;
        }

        entry.Size = _size ?? entry.Size;
        entry.Uid = _uid ?? entry.Uid;
        entry.Gid = _gid ?? entry.Gid;
        if (_mtimeSeconds is long seconds)
        {
            entry.ModificationSeconds = seconds;
            entry.ModificationNanoseconds = _mtimeNanoseconds;
        }

        entry.DeviceMajor = _devMajor ?? entry.DeviceMajor;
        entry.DeviceMinor = _devMinor ?? entry.DeviceMinor;
        if (_xattrs is not null)
        {
            entry.Xattrs.AddRange(_xattrs);
        }
    }

    private void Set(string key, ReadOnlySpan<byte> value)
    {
        switch (key)
        {
            case "path":
                _path = NoNul(value, key);
                break;
            case "linkpath":
                _linkPath = NoNul(value, key);
                break;
            case "size":
                _size = Integer(value, key);
                break;
            case "uid":
                _uid = Integer(value, key);
                break;
            case "gid":
                _gid = Integer(value, key);
                break;
            case "mtime":
                (_mtimeSeconds, _mtimeNanoseconds) = Time(value);
                break;
            case "SCHILY.devmajor":
                _devMajor = Integer(value, key);
                break;
            case "SCHILY.devminor":
                _devMinor = Integer(value, key);
                break;
            default:
                if (key.StartsWith(XattrPrefix, StringComparison.Ordinal) && key.Length > XattrPrefix.Length)
                {
                    (_xattrs ??= []).Add(new(key[XattrPrefix.Length..], value.ToArray()));
                }
                else if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
                {
                    throw new InvalidLayerException(null, "sparse files (PAX GNU.sparse.*) are not supported in layers");
                }

                break;
        }
    }

    private static byte[] NoNul(ReadOnlySpan<byte> value, string key) =>
        value.Contains((byte)0)
            ? throw new InvalidLayerException(null, $"PAX '{key}' contains a NUL byte")
            : value.ToArray();

    private static long Integer(ReadOnlySpan<byte> value, string key) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long result)
            ? result
            : throw new InvalidLayerException(null, $"PAX '{key}' is not a non-negative decimal integer");

    private static (long Seconds, long Nanoseconds) Time(ReadOnlySpan<byte> value)
    {
        bool negative = !value.IsEmpty && value[0] == (byte)'-';
        var digits = negative ? value[1..] : value;
        int dot = digits.IndexOf((byte)'.');
        var whole = dot < 0 ? digits : digits[..dot];
        if (!long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            throw new InvalidLayerException(null, "PAX 'mtime' is not a decimal time");
        }

        long nanoseconds = 0;
        if (dot >= 0)
        {
            var fraction = digits[(dot + 1)..];
            for (int i = 0; i < 9; i++)
            {
                byte c = i < fraction.Length ? fraction[i] : (byte)'0';
                if (c is < (byte)'0' or > (byte)'9')
                {
                    throw new InvalidLayerException(null, "PAX 'mtime' is not a decimal time");
                }

                nanoseconds = (nanoseconds * 10) + (c - '0');
            }
        }

        if (negative)
        {
            seconds = -seconds;
            if (nanoseconds > 0)
            {
                seconds--;
                nanoseconds = 1_000_000_000 - nanoseconds;
            }
        }

        return (seconds, nanoseconds);
    }
}
