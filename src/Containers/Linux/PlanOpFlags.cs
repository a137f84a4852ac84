namespace Containers.Linux;

/// <summary>Per-operation flags; mirrors <c>CT_F_*</c> in plan.h.</summary>
[Flags]
internal enum PlanOpFlags : uint
{
    None = 0,

    /// <summary>BIND, MOUNT_SETATTR: the whole subtree.</summary>
    Recursive = 0x1,

    /// <summary>BIND: resolve the source beneath the root as well.</summary>
    SourceInRoot = 0x2,

    /// <summary>MKDIR: create missing parents.</summary>
    Parents = 0x4,

    /// <summary>A failure of this op is ignored.</summary>
    Optional = 0x8,

    /// <summary>MKDIR, MKNOD, SYMLINK: an existing entry is not an error.</summary>
    ExistOk = 0x10,

    /// <summary>EXEC with <see cref="Keep"/>: the program gets its own process group, made the terminal's foreground.</summary>
    Foreground = 0x20,

    /// <summary>WAIT_FD: report READY on the error pipe before blocking.</summary>
    Announce = 0x40,

    /// <summary>EXEC: exec containers-init (slot <see cref="PlanFd.Init"/>), which execs the program.</summary>
    ViaInit = 0x80,

    /// <summary>EXEC with <see cref="ViaInit"/>: containers-init stays, forks the program and reports its status.</summary>
    Keep = 0x100,

    /// <summary>EXEC with <see cref="Keep"/>: report and exit as an init does (exit code, or 128 + signal).</summary>
    InitStatus = 0x200,

    /// <summary>
    /// MOUNT, BIND: a path that does not exist (ENOENT) is skipped; any other failure still fails the op. OPEN_SEND: a
    /// path that does not exist (ENOENT, or ENOTDIR from a component on the way) sends a message without an fd.
    /// </summary>
    MissingOk = 0x400,

    /// <summary>CHOWN: then set the mode n[2] (not on a link), since the change of owner cleared its set-id bits.</summary>
    SetMode = 0x800,

    /// <summary>
    /// WRITE_FILE: written only where the path holds a regular file or nothing and its parent is a directory; anything
    /// else there or on the way (a link, a directory, a fifo) is left as it is, and the op succeeds.
    /// </summary>
    FileOrMissing = 0x1000,

    /// <summary>BIND: masks the target as the container has it (a directory: a read-only tmpfs; else the null device, checked).</summary>
    Mask = 0x2000,
}
