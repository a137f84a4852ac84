namespace Containers.Linux;

/// <summary>Operation codes of a plan; mirrors <c>CT_OP_*</c> in src/Containers.Native/plan.h.</summary>
internal enum PlanOpCode : uint
{
    Mount = 1,
    Bind = 2,
    MakeDirectory = 3,
    MakeNode = 4,
    Symlink = 5,
    PivotRoot = 6,
    UnmountDetach = 7,
    MakePrivate = 8,
    SetHostname = 9,
    SetRlimit = 10,
    SetGroups = 11,
    SetResGid = 12,
    SetResUid = 13,
    Umask = 14,
    Prctl = 15,
    WriteFile = 16,
    Dup2 = 17,
    CloseRange = 18,
    SetSid = 19,
    SetCtty = 20,
    OpenPty = 21,
    WaitFd = 22,
    ChangeDirectory = 23,
    SetNs = 24,
    Exec = 25,
    Root = 26,
    Fork = 27,
    MountSetAttr = 28,
    Seccomp = 29,
    CapSet = 30,

    /// <summary>CT_OP_LOOPBACK_UP: sets IFF_UP on <c>lo</c> of the current network namespace.</summary>
    LoopbackUp = 31,

    /// <summary>CT_OP_FSMOUNT: a filesystem made with the new mount API (one fsconfig per parameter) and moved onto a target.</summary>
    FsMount = 40,

    /// <summary>CT_OP_CHOWN: changes the owner of a path in root without following its last component.</summary>
    Chown = 41,

    /// <summary>CT_OP_OPEN_SEND: opens a path in root for reading (a regular file or directory; anything else O_PATH) and sends the fd over a socket.</summary>
    OpenSend = 42,

    /// <summary>CT_OP_RENAME: renameat2 between two paths in root (flags such as RENAME_NOREPLACE, RENAME_EXCHANGE), no last component followed.</summary>
    Rename = 43,

    /// <summary>CT_OP_UNLINK: unlinkat of a path in root (AT_REMOVEDIR for an empty directory), its last component not followed.</summary>
    Unlink = 44,

    /// <summary>CT_OP_CGROUP_JOIN: writes "0" to a v1 hierarchy's <c>tasks</c> file in a slot, moving the child into that cgroup itself.</summary>
    CgroupJoin = 45,

    /// <summary>CT_OP_UNSHARE: unshare(2) of the given CLONE_NEW* flags, for a namespace made after an earlier op.</summary>
    Unshare = 46,

    /// <summary>CT_OP_CHECK_FS: a path reached without any symlink must lie on a filesystem of the given statfs type.</summary>
    CheckFs = 50,

    /// <summary>CT_OP_TMPFS_FILES: a tmpfs filled with files through its mount fd before it is attached, then moved onto a target.</summary>
    TmpfsFiles = 51,
}
