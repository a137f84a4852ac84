namespace Containers.Images.Layers;

/// <summary>
/// A tar entry name normalised to a relative path beneath the snapshot root: leading <c>/</c>, empty and <c>.</c>
/// components dropped (absolute names are taken relative to the root, as Docker and GNU tar do), <c>..</c> refused.
/// The bytes are NUL-terminated so the last component can be passed to *at calls in place.
/// </summary>
internal readonly struct EntryPath
{
    private EntryPath(byte[] path, int length, int lastSlash)
    {
        Bytes = path;
        Length = length;
        LastSlash = lastSlash;
    }

    /// <summary>The normalised path followed by a NUL; the path itself is <c>Bytes[..Length]</c>.</summary>
    public byte[] Bytes { get; }

    public int Length { get; }

    /// <summary>Index of the slash before the last component, or -1 when the entry sits in the root.</summary>
    public int LastSlash { get; }

    public bool IsRoot => Length == 0;

    public ReadOnlySpan<byte> Path => Bytes.AsSpan(0, Length);

    public ReadOnlySpan<byte> Parent => LastSlash < 0 ? default : Bytes.AsSpan(0, LastSlash);

    /// <summary>The last component, followed by the terminating NUL in <see cref="Bytes"/>.</summary>
    public ReadOnlySpan<byte> BaseName => Bytes.AsSpan(LastSlash + 1, Length - LastSlash - 1);

    public int BaseNameOffset => LastSlash + 1;

    /// <summary>Normalises <paramref name="name"/>; returns null with a reason when it must be refused.</summary>
    public static EntryPath? Normalize(ReadOnlySpan<byte> name, out string? reason)
    {
        reason = null;
        if (name.Contains((byte)0))
        {
            reason = "the name contains a NUL byte";
            return null;
        }

        byte[] result = new byte[name.Length + 1];
        int length = 0;
        int lastSlash = -1;
        while (!name.IsEmpty)
        {
            int slash = name.IndexOf((byte)'/');
            var component = slash < 0 ? name : name[..slash];
            name = slash < 0 ? default : name[(slash + 1)..];
            if (component.IsEmpty || component.SequenceEqual("."u8))
            {
                continue;
            }

            if (component.SequenceEqual(".."u8))
            {
                reason = "the name contains a '..' component; layer entries must stay beneath the root";
                return null;
            }

            if (length > 0)
            {
                lastSlash = length;
                result[length++] = (byte)'/';
            }

            component.CopyTo(result.AsSpan(length));
            length += component.Length;
        }

        result[length] = 0;
        return new EntryPath(result, length, lastSlash);
    }
}
