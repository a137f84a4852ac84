using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary><c>struct statx</c> (256 bytes); only the fields layer application and commit read are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    /// <summary><c>STATX_BASIC_STATS</c>: type, mode, nlink, uid, gid, times, ino, size, blocks.</summary>
    public const uint BasicStats = 0x7FF;

    [FieldOffset(16)]
    public uint Nlink;

    [FieldOffset(20)]
    public uint Uid;

    [FieldOffset(24)]
    public uint Gid;

    [FieldOffset(28)]
    public ushort Mode;

    [FieldOffset(32)]
    public ulong Ino;

    [FieldOffset(40)]
    public ulong Size;

    [FieldOffset(112)]
    public long MtimeSeconds;

    [FieldOffset(120)]
    public uint MtimeNanoseconds;

    [FieldOffset(128)]
    public uint RdevMajor;

    [FieldOffset(132)]
    public uint RdevMinor;

    [FieldOffset(136)]
    public uint DevMajor;

    [FieldOffset(140)]
    public uint DevMinor;
}
