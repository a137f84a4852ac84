namespace Containers.Images.Layers;

/// <summary>
/// One tar entry after its PAX and GNU extension headers were folded in. Names are raw bytes as the layer spells
/// them (tar does not promise UTF-8), so a name round-trips to the file system exactly.
/// </summary>
internal sealed class TarEntry
{
    public TarEntryType Type { get; set; }

    public byte[] Name { get; set; } = [];

    public byte[] LinkName { get; set; } = [];

    /// <summary>Permission bits including setuid, setgid and sticky (07777).</summary>
    public uint Mode { get; set; }

    public long Uid { get; set; }

    public long Gid { get; set; }

    public long Size { get; set; }

    public long ModificationSeconds { get; set; }

    public long ModificationNanoseconds { get; set; }

    public long DeviceMajor { get; set; }

    public long DeviceMinor { get; set; }

    /// <summary>PAX <c>SCHILY.xattr.*</c> records: attribute name and raw value.</summary>
    public List<KeyValuePair<string, byte[]>> Xattrs { get; } = [];

    /// <summary>The name for error messages (invalid UTF-8 shown as replacement characters).</summary>
    public string DisplayName => System.Text.Encoding.UTF8.GetString(Name);

    /// <summary>Regular files carry data; every other type's size field is ignored, as Go's archive/tar does.</summary>
    public bool HasData => Type is TarEntryType.RegularFile or TarEntryType.RegularFileV7 or TarEntryType.ContiguousFile;
}
