using Microsoft.Win32.SafeHandles;

namespace Containers.Images.Commit;

/// <summary>
/// One entry of an overlay upper directory as a layer holds it: its path relative to the root (raw bytes, as the
/// file system names it), its metadata with owners already translated to the container's ids, and the xattrs a layer
/// keeps (overlay's own are removed).
/// </summary>
internal sealed class UpperEntry
{
    /// <summary>The path below the upper directory, '/'-separated, without a leading '/'.</summary>
    public required byte[] Path { get; init; }

    public required UpperEntryKind Kind { get; init; }

    /// <summary>Permission bits, setuid, setgid and sticky (no file type).</summary>
    public uint Mode { get; init; }

    public uint Uid { get; init; }

    public uint Gid { get; init; }

    public long Size { get; init; }

    public long ModificationSeconds { get; init; }

    public uint DeviceMajor { get; init; }

    public uint DeviceMinor { get; init; }

    /// <summary>A symlink's target, or the earlier path a hard link names.</summary>
    public byte[] LinkTarget { get; init; } = [];

    /// <summary>A directory overlay marked opaque: nothing of the lower layers shows through it.</summary>
    public bool Opaque { get; init; }

    public IReadOnlyList<KeyValuePair<string, byte[]>> Xattrs { get; init; } = [];

    /// <summary>The open file of a regular file, positioned at 0; the walker closes it after the visit.</summary>
    public SafeFileHandle? Content { get; init; }

    public string DisplayPath => "/" + System.Text.Encoding.UTF8.GetString(Path);
}
