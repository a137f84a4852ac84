namespace Containers.Images.Layers;

/// <summary>
/// The <c>user.rootlesscontainers</c> xattr (rootlesscontaine.rs protobuf <c>Resource { uint32 uid = 1;
/// uint32 gid = 2; }</c>) that records a file's owner in a store written without privileges, as umoci does: an id
/// of 0 is the unprivileged owner itself and is written as the no-op value 0xFFFFFFFF; an entry owned by 0:0 gets
/// no xattr.
/// </summary>
internal static class RootlessOwnership
{
    public const string XattrName = "user.rootlesscontainers";

    private const uint NoopId = uint.MaxValue;

    /// <summary>The encoded value for <paramref name="uid"/>:<paramref name="gid"/>, or null for 0:0.</summary>
    public static byte[]? Encode(uint uid, uint gid)
    {
        if (uid == 0 && gid == 0)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[12];
        int length = 0;
        buffer[length++] = 0x08;
        length += WriteVarint(buffer[length..], uid == 0 ? NoopId : uid);
        buffer[length++] = 0x10;
        length += WriteVarint(buffer[length..], gid == 0 ? NoopId : gid);
        return buffer[..length].ToArray();
    }

    /// <summary>Decodes a value written by <see cref="Encode"/> or umoci; no-op ids read as 0.</summary>
    public static (uint Uid, uint Gid) Decode(ReadOnlySpan<byte> value)
    {
        uint uid = 0;
        uint gid = 0;
        while (!value.IsEmpty)
        {
            byte key = value[0];
            value = value[1..];
            ulong field = ReadVarint(ref value);
            uint id = field == NoopId ? 0 : (uint)field;
            switch (key)
            {
                case 0x08:
                    uid = id;
                    break;
                case 0x10:
                    gid = id;
                    break;
                default:
                    throw new FormatException($"unexpected protobuf key 0x{key:x2} in {XattrName}");
            }
        }

        return (uid, gid);
    }

    private static int WriteVarint(Span<byte> buffer, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            buffer[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[i++] = (byte)value;
        return i;
    }

    private static ulong ReadVarint(ref ReadOnlySpan<byte> value)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (value.IsEmpty)
            {
                break;
            }

            byte b = value[0];
            value = value[1..];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new FormatException($"truncated varint in {XattrName}");
    }
}
