namespace Containers.Linux;

/// <summary>Flags of mount(2) (<c>MS_*</c>).</summary>
[Flags]
internal enum MountFlags : ulong
{
    None = 0,
    ReadOnly = 0x1,
    NoSuid = 0x2,
    NoDev = 0x4,
    NoExec = 0x8,
    Remount = 0x20,
    NoAtime = 0x400,
    Bind = 0x1000,
    Recursive = 0x4000,
    Private = 0x40000,
    Slave = 0x80000,
    Shared = 0x100000,
    RelAtime = 0x200000,
    StrictAtime = 0x1000000,
}
