namespace Containers.Linux;

/// <summary>Per-mount attributes of mount_setattr(2) (<c>MOUNT_ATTR_*</c>).</summary>
[Flags]
internal enum MountAttributes : ulong
{
    None = 0,
    ReadOnly = 0x1,
    NoSuid = 0x2,
    NoDev = 0x4,
    NoExec = 0x8,
    NoAtime = 0x10,
    StrictAtime = 0x20,
    NoDiratime = 0x80,
    NoSymFollow = 0x200000,
}
