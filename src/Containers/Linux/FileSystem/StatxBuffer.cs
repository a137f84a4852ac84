using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary><c>struct statx</c> (256 bytes); only the fields layer application reads are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(20)]
    public uint Uid;

    [FieldOffset(24)]
    public uint Gid;

    [FieldOffset(28)]
    public ushort Mode;

    [FieldOffset(128)]
    public uint RdevMajor;

    [FieldOffset(132)]
    public uint RdevMinor;
}
