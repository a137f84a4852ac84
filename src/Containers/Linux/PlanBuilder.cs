using System.Buffers.Binary;
using System.Text;

namespace Containers.Linux;

/// <summary>
/// Builds a <see cref="Plan"/>: the header (namespaces, cgroup, flags) and a flat list of operations the child
/// runs in order between clone and exec. Each op gets a stage name, which is what a failure is reported as.
/// Paths called "in root" are resolved beneath the root set by <see cref="Root"/> (or <c>/</c> after
/// <see cref="PivotRoot"/>) without following links out of it.
/// </summary>
/// <example>
/// <code>
/// var plan = new PlanBuilder(CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts)
///     .MakePrivate()
///     .SetHostname("box")
///     .Exec("/bin/sh", ["sh", "-c", "echo $$"], ["PATH=/bin"])
///     .Build();
/// await using var child = ChildProcess.Launch(plan);
/// var status = await child.WaitAsync(ct);
/// </code>
/// </example>
internal sealed class PlanBuilder
{
    private const int O_WRONLY = 0x1;
    private const int O_CREAT = 0x40;
    private const int O_TRUNC = 0x200;

    private readonly List<Op> _ops = [];
    private readonly List<byte> _data = [];
    private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    private CloneFlags _cloneFlags;
    private PlanFlags _flags;
    private int _cgroupSlot = -1;
    private int _importedFds;
    private bool _usesSync;
    private bool _hasFork;
    private bool _usesInitBinary;
    private bool _keepsProgram;
    private string? _program;
    private ulong? _launchBoundingSet;
    private bool _returnAfterPivot;

    /// <summary>Starts a plan whose child is cloned into the given new namespaces.</summary>
    public PlanBuilder(CloneFlags cloneFlags = CloneFlags.None)
    {
        _cloneFlags = cloneFlags;
    }

    /// <summary>Adds namespaces the child is cloned into.</summary>
    public PlanBuilder WithCloneFlags(CloneFlags flags)
    {
        _cloneFlags |= flags;
        return this;
    }

    /// <summary>Clones without <c>CLONE_VM</c> (needed to join a user namespace with SETNS).</summary>
    public PlanBuilder ForkLike()
    {
        _flags |= PlanFlags.ForkLike;
        return this;
    }

    /// <summary>
    /// Asks the launch to return once the child's first <see cref="PivotRoot"/> has run (or the child exec'd or
    /// exited) instead of right after the clone. Until then the launching thread and its caller sleep and leave
    /// their CPU idle: the pivot's detach of the old root waits for an RCU grace period, which every CPU must pass,
    /// and a CPU that runs the caller's bookkeeping meanwhile makes that wait several times longer. Applied where
    /// it can be: to a child that shares this process's memory (not <see cref="ForkLike"/>) and reaches the pivot
    /// without waiting for its parent; other plans return at once as before.
    /// </summary>
    public PlanBuilder ReturnAfterPivot()
    {
        _returnAfterPivot = true;
        return this;
    }

    /// <summary>Lets the child outlive the launching thread (no <c>PR_SET_PDEATHSIG</c>).</summary>
    public PlanBuilder WithoutParentDeathSignal()
    {
        _flags |= PlanFlags.NoParentDeathSignal;
        return this;
    }

    /// <summary>Declares an fd the launch supplies; returns its slot for use in ops.</summary>
    public PlanFd ImportFd() => new(PlanLayout.SlotFirstImport + _importedFds++);

    /// <summary>Starts the child in the cgroup whose directory fd is in <paramref name="cgroupDir"/> (cgroup v2).</summary>
    public PlanBuilder IntoCgroup(PlanFd cgroupDir)
    {
        _cgroupSlot = cgroupDir.Slot;
        return this;
    }

    /// <summary>mount(2) of a filesystem onto a target in root; <paramref name="missingOk"/> skips a target that does not exist.</summary>
    public PlanBuilder Mount(string? source, string target, string? fsType, MountFlags flags = MountFlags.None,
        string? data = null, string? stage = null, bool optional = false, bool missingOk = false) =>
        Add(PlanOpCode.Mount, stage ?? $"mount {target}", Optional(optional) | MissingOk(missingOk),
            [Str(source), Str(target), Str(fsType), Str(data)], [(ulong)flags]);

    /// <summary>
    /// Bind mount (open_tree + move_mount) of <paramref name="source"/> onto a target in root;
    /// <paramref name="missingOk"/> skips a source or target that does not exist.
    /// </summary>
    public PlanBuilder Bind(string source, string target, bool recursive = true, bool readOnly = false,
        MountAttributes attributes = MountAttributes.None, bool sourceInRoot = false, string? stage = null,
        bool optional = false, bool missingOk = false)
    {
        var flags = Optional(optional) | MissingOk(missingOk) | (recursive ? PlanOpFlags.Recursive : 0)
            | (sourceInRoot ? PlanOpFlags.SourceInRoot : 0);
        var attrs = attributes | (readOnly ? MountAttributes.ReadOnly : 0);
        return Add(PlanOpCode.Bind, stage ?? $"bind {source} on {target}", flags, [Str(source), Str(target)], [(ulong)attrs]);
    }

    /// <summary>mkdir in root; <paramref name="parents"/> creates missing parents and accepts an existing path.</summary>
    public PlanBuilder MakeDirectory(string path, uint mode = 0x1ed, bool parents = false, bool existOk = false,
        string? stage = null) =>
        Add(PlanOpCode.MakeDirectory, stage ?? $"mkdir {path}",
            (parents ? PlanOpFlags.Parents : 0) | (existOk || parents ? PlanOpFlags.ExistOk : 0), [Str(path)], [mode]);

    /// <summary>mknod in root: <paramref name="mode"/> includes the file type (<c>S_IFCHR</c> = 0x2000).</summary>
    public PlanBuilder MakeNode(string path, uint mode, uint major, uint minor, bool existOk = false, string? stage = null) =>
        Add(PlanOpCode.MakeNode, stage ?? $"mknod {path}", existOk ? PlanOpFlags.ExistOk : 0, [Str(path)], [mode, major, minor]);

    /// <summary>Creates the symbolic link <paramref name="path"/> (in root) pointing to <paramref name="target"/>.</summary>
    public PlanBuilder Symlink(string target, string path, bool existOk = false, string? stage = null) =>
        Add(PlanOpCode.Symlink, stage ?? $"symlink {path}", existOk ? PlanOpFlags.ExistOk : 0, [Str(target), Str(path)], []);

    /// <summary>Makes the current root the new <c>/</c> (pivot_root(".", ".")) and detaches the old root.</summary>
    public PlanBuilder PivotRoot(string? stage = null) => Add(PlanOpCode.PivotRoot, stage ?? "pivot_root", 0, [], []);

    /// <summary>umount2(MNT_DETACH) of a path in root.</summary>
    public PlanBuilder UnmountDetach(string path, string? stage = null) =>
        Add(PlanOpCode.UnmountDetach, stage ?? $"umount {path}", 0, [Str(path)], []);

    /// <summary>Sets mount propagation of <paramref name="path"/> (default: <c>mount --make-rprivate /</c>).</summary>
    public PlanBuilder MakePrivate(string path = "/", MountFlags propagation = MountFlags.Private | MountFlags.Recursive,
        string? stage = null) =>
        Add(PlanOpCode.MakePrivate, stage ?? $"make {path} private", 0, [Str(path)], [(ulong)propagation]);

    /// <summary>sethostname (needs a new UTS namespace).</summary>
    public PlanBuilder SetHostname(string hostname, string? stage = null) =>
        Add(PlanOpCode.SetHostname, stage ?? "sethostname", 0, [Str(hostname)], []);

    /// <summary>prlimit64 on the child itself; <see cref="ulong.MaxValue"/> is RLIM_INFINITY.</summary>
    public PlanBuilder SetRlimit(int resource, ulong soft, ulong hard, string? stage = null) =>
        Add(PlanOpCode.SetRlimit, stage ?? $"setrlimit {resource}", 0, [], [(ulong)resource, soft, hard]);

    /// <summary>setgroups (supplementary groups).</summary>
    public PlanBuilder SetGroups(IEnumerable<uint> gids, string? stage = null) =>
        Add(PlanOpCode.SetGroups, stage ?? "setgroups", 0, [U32List(gids)], []);

    /// <summary>setresgid with all three ids equal.</summary>
    public PlanBuilder SetResGid(uint gid, string? stage = null) =>
        Add(PlanOpCode.SetResGid, stage ?? "setresgid", 0, [], [gid, gid, gid]);

    /// <summary>setresuid with all three ids equal.</summary>
    public PlanBuilder SetResUid(uint uid, string? stage = null) =>
        Add(PlanOpCode.SetResUid, stage ?? "setresuid", 0, [], [uid, uid, uid]);

    /// <summary>umask.</summary>
    public PlanBuilder Umask(uint mask) => Add(PlanOpCode.Umask, "umask", 0, [], [mask]);

    /// <summary>prctl(option, arg2, arg3, arg4, 0).</summary>
    public PlanBuilder Prctl(int option, ulong arg2 = 0, ulong arg3 = 0, ulong arg4 = 0, string? stage = null) =>
        Add(PlanOpCode.Prctl, stage ?? $"prctl {option}", 0, [], [(ulong)option, arg2, arg3, arg4]);

    /// <summary>
    /// Writes <paramref name="content"/> to a file in root (created or truncated; no link followed at the end). Without
    /// content the file is only created where missing: an existing file (a mount point, or wherever a raced path led)
    /// is not truncated. With <paramref name="fileOrMissing"/>, a path that holds anything but a regular file, or whose
    /// parent is not a directory, is left as it is (<see cref="PlanOpFlags.FileOrMissing"/>).
    /// </summary>
    public PlanBuilder WriteFile(string path, ReadOnlySpan<byte> content, uint mode = 0x1a4, string? stage = null, bool fileOrMissing = false) =>
        Add(PlanOpCode.WriteFile, stage ?? $"write {path}", fileOrMissing ? PlanOpFlags.FileOrMissing : 0, [Str(path), content.Length == 0 ? -1 : Bytes(content)],
            [(ulong)content.Length, (ulong)(content.Length == 0 ? O_WRONLY | O_CREAT : O_WRONLY | O_CREAT | O_TRUNC), mode]);

    /// <summary>
    /// Gives a path in root (its last component is not followed) to <paramref name="uid"/>:<paramref name="gid"/>;
    /// with <paramref name="mode"/>, then sets that mode (unless it is a link): a change of owner clears set-id bits.
    /// </summary>
    public PlanBuilder Chown(string path, uint uid, uint gid, string? stage = null, uint? mode = null) =>
        Add(PlanOpCode.Chown, stage ?? $"chown {path}", mode is null ? 0 : PlanOpFlags.SetMode, [Str(path)], [uid, gid, mode ?? 0]);

    /// <summary>Writes a UTF-8 string to a file in root.</summary>
    public PlanBuilder WriteFile(string path, string content, uint mode = 0x1a4, string? stage = null) =>
        WriteFile(path, Encoding.UTF8.GetBytes(content), mode, stage);

    /// <summary>dup2 of an imported fd onto <paramref name="target"/> (which then survives exec).</summary>
    public PlanBuilder Dup2(PlanFd source, int target, string? stage = null) =>
        Add(PlanOpCode.Dup2, stage ?? $"dup2 to fd {target}", 0, [], [(ulong)source.Slot, (ulong)target]);

    /// <summary>Marks every fd above 2 close-on-exec except <paramref name="keep"/>: only 0-2 and these survive exec.</summary>
    public PlanBuilder CloseOtherFds(IEnumerable<int> keep, string? stage = null) =>
        Add(PlanOpCode.CloseRange, stage ?? "close_range", 0, [U32List(keep.Select(k => (uint)k).Order().Distinct())], []);

    /// <summary>setsid: a new session without a controlling terminal.</summary>
    public PlanBuilder SetSid() => Add(PlanOpCode.SetSid, "setsid", 0, [], []);

    /// <summary>Makes <paramref name="fd"/> (a terminal) the controlling terminal (TIOCSCTTY).</summary>
    public PlanBuilder SetControllingTerminal(int fd = 0) => Add(PlanOpCode.SetCtty, "ioctl TIOCSCTTY", 0, [], [(ulong)fd]);

    /// <summary>
    /// Opens <paramref name="path"/> (in root, its last component not followed) and sends the fd over
    /// <paramref name="socket"/> (receive it with <see cref="ChildProcess.ReceiveFdAsync"/>): a regular file or a
    /// directory opened for reading, anything else as an <c>O_PATH</c> fd. The open is checked against the child's
    /// credentials, so a child in a user namespace opens what the namespace's root may read. With
    /// <paramref name="missingOk"/> a path that does not exist (also under a component that is not a directory) sends a message without an fd
    /// (<see cref="ChildProcess.ReceiveFdOrMissingAsync"/> gives null) instead of failing the plan.
    /// </summary>
    public PlanBuilder OpenAndSend(string path, PlanFd socket, string? stage = null, bool missingOk = false) =>
        Add(PlanOpCode.OpenSend, stage ?? $"open {path}", missingOk ? PlanOpFlags.MissingOk : 0, [Str(path)], [(ulong)socket.Slot]);

    /// <summary>
    /// renameat2 of <paramref name="from"/> to <paramref name="to"/> (both in root, their parents resolved there, their
    /// last components never followed) with <paramref name="flags"/> (<c>RENAME_NOREPLACE</c> 1, <c>RENAME_EXCHANGE</c> 2).
    /// </summary>
    public PlanBuilder Rename(string from, string to, uint flags, string? stage = null) =>
        Add(PlanOpCode.Rename, stage ?? $"rename {from} to {to}", 0, [Str(from), Str(to)], [flags]);

    /// <summary>unlinkat of <paramref name="path"/> in root, its last component not followed; <paramref name="directory"/>: an empty directory (<c>AT_REMOVEDIR</c>).</summary>
    public PlanBuilder Unlink(string path, bool directory = false, string? stage = null) =>
        Add(PlanOpCode.Unlink, stage ?? $"remove {path}", 0, [Str(path)], [directory ? 0x200ul : 0]);

    /// <summary>
    /// Opens <paramref name="ptmxPath"/> (in root, the container's devpts), unlocks it, sends the master over the
    /// socket <paramref name="socket"/> (receive it with <see cref="ChildProcess.ReceiveFdAsync"/>) and makes the slave
    /// fds 0-2. Follow with <see cref="SetSid"/> and <see cref="SetControllingTerminal"/>.
    /// </summary>
    public PlanBuilder OpenPty(string ptmxPath, PlanFd socket, string? stage = null) =>
        Add(PlanOpCode.OpenPty, stage ?? $"open pty {ptmxPath}", 0, [Str(ptmxPath)], [(ulong)socket.Slot]);

    /// <summary>
    /// Blocks until the parent calls <see cref="ChildProcess.Continue"/> once more. With <paramref name="announce"/>
    /// the child first reports that it got here, which completes <see cref="ChildProcess.WaitForSetupAsync"/>.
    /// </summary>
    public PlanBuilder WaitForParent(string stage = "wait for parent", bool announce = false)
    {
        _usesSync = true;
        return Add(PlanOpCode.WaitFd, stage, announce ? PlanOpFlags.Announce : 0, [], [(ulong)PlanFd.Sync.Slot]);
    }

    /// <summary>chdir (after <see cref="PivotRoot"/> this is a path in the container).</summary>
    public PlanBuilder ChangeDirectory(string path, string? stage = null) =>
        Add(PlanOpCode.ChangeDirectory, stage ?? $"chdir {path}", 0, [Str(path)], []);

    /// <summary>setns on an imported fd: a pidfd (several namespaces at once) or a <c>/proc/PID/ns/*</c> fd.</summary>
    public PlanBuilder SetNs(PlanFd fd, CloneFlags namespaces, string? stage = null) =>
        Add(PlanOpCode.SetNs, stage ?? "setns", 0, [], [(ulong)fd.Slot, (ulong)namespaces]);

    /// <summary>
    /// Clones again with <c>CLONE_PARENT</c>: the new process (a child of the launcher) runs the remaining ops,
    /// the current one exits. Needed after joining a pid namespace, which only applies to new children. The new
    /// process waits on the sync pipe until <see cref="ChildProcess"/> holds its pidfd.
    /// </summary>
    public PlanBuilder Fork(string? stage = null)
    {
        _hasFork = true;
        _usesSync = true;
        return Add(PlanOpCode.Fork, stage ?? "clone into the pid namespace", 0, [], [0]);
    }

    /// <summary>
    /// execve of the program by the process that ran the plan (its <c>/proc/self/exe</c> is the host's binary until
    /// then). A <paramref name="file"/> without '/' is searched in <paramref name="searchPath"/> (default
    /// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin), inside the current root.
    /// </summary>
    public PlanBuilder Exec(string file, IReadOnlyList<string> argv, IReadOnlyList<string> env, string? searchPath = null,
        string? stage = null)
    {
        _program ??= file;
        return Add(PlanOpCode.Exec, stage ?? $"exec {file}", 0, [Str(file), StrList(argv), StrList(env), Str(searchPath)], []);
    }

    /// <summary>
    /// Execs containers-init (plan.h), which execs the program (searched as <see cref="Exec"/> does): no process
    /// that execs into the container has the host's binary as <c>/proc/self/exe</c>. With
    /// <paramref name="role"/> other than <see cref="InitRole.ExecOnly"/> it stays as the program's parent: reaps
    /// every child, sends each signal of <paramref name="forwardSignals"/> on to the program, and reports its
    /// status over a pipe that <see cref="ChildProcess.WaitAsync"/> reads, so a host that reaps every child cannot
    /// take it. <paramref name="foreground"/> (not with <see cref="InitRole.ExecOnly"/>) puts the program in its own
    /// process group and makes that the foreground of the terminal on fd 0.
    /// </summary>
    public PlanBuilder ExecThroughInit(string file, IReadOnlyList<string> argv, IReadOnlyList<string> env, string? searchPath,
        InitRole role, IEnumerable<int>? forwardSignals = null, bool foreground = false, string? stage = null)
    {
        var mask = 0UL;
        foreach (var signal in forwardSignals ?? [])
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1, nameof(forwardSignals));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64, nameof(forwardSignals));
            mask |= 1UL << (signal - 1);
        }

        var flags = PlanOpFlags.ViaInit;
        if (role == InitRole.ExecOnly)
        {
            if (mask != 0 || foreground)
            {
                throw new ArgumentException("only a containers-init that stays can forward signals or set the terminal's foreground", nameof(role));
            }
        }
        else
        {
            flags |= PlanOpFlags.Keep | (role == InitRole.Init ? PlanOpFlags.InitStatus : 0) | (foreground ? PlanOpFlags.Foreground : 0);
            _keepsProgram = true;
        }

        _usesInitBinary = true;
        _program ??= file;
        return Add(PlanOpCode.Exec, stage ?? $"exec {file}", flags, [Str(file), StrList(argv), StrList(env), Str(searchPath)], [mask]);
    }

    /// <summary>Sets the root that later "in root" paths resolve beneath (a host path, normally the rootfs mount).</summary>
    public PlanBuilder Root(string path, string? stage = null) => Add(PlanOpCode.Root, stage ?? $"open root {path}", 0, [Str(path)], []);

    /// <summary>mount_setattr on a mount in root (for example a read-only <c>/</c> after pivot_root).</summary>
    public PlanBuilder MountSetAttributes(string path, MountAttributes set, MountAttributes clear = MountAttributes.None,
        bool recursive = false, string? stage = null) =>
        Add(PlanOpCode.MountSetAttr, stage ?? $"mount_setattr {path}", recursive ? PlanOpFlags.Recursive : 0, [Str(path)],
            [(ulong)set, (ulong)clear]);

    /// <summary>
    /// Loads a classic BPF seccomp filter (8-byte <c>sock_filter</c> instructions). With
    /// <c>SECCOMP_FILTER_FLAG_NEW_LISTENER</c> in <paramref name="flags"/>, the listener fd is sent over
    /// <paramref name="listenerSocket"/>.
    /// </summary>
    public PlanBuilder Seccomp(ReadOnlySpan<byte> filter, uint flags = 0, PlanFd? listenerSocket = null, string? stage = null)
    {
        if (filter.Length == 0 || filter.Length % 8 != 0)
        {
            throw new ArgumentException("a seccomp filter is a non-empty array of 8-byte instructions", nameof(filter));
        }

        if (((flags & 8) != 0) != listenerSocket.HasValue)
        {
            throw new ArgumentException("a listener socket goes with SECCOMP_FILTER_FLAG_NEW_LISTENER, and only with it", nameof(listenerSocket));
        }

        return Add(PlanOpCode.Seccomp, stage ?? "seccomp", 0, [Bytes(filter)],
            [(ulong)(filter.Length / 8), flags, (ulong)(listenerSocket?.Slot ?? 0)]);
    }

    /// <summary>
    /// The capability sets as 64-bit masks (bit n = capability n): drops each capability of <paramref name="drop"/>
    /// from the bounding set, sets effective, permitted and inheritable, then raises <paramref name="ambient"/>. Run it
    /// after the ids change, with <c>PR_SET_KEEPCAPS</c> set before them. <paramref name="drop"/> is what the child's
    /// bounding set holds beyond the one wanted (nothing is read per capability); when the child's bounding set lacks
    /// <paramref name="probe"/>, it was cloned from a launch thread that dropped them already and the drops are skipped.
    /// </summary>
    public PlanBuilder CapSet(ulong effective, ulong permitted, ulong inheritable, IEnumerable<uint> drop, uint? probe, IEnumerable<uint> ambient, string? stage = null) =>
        Add(PlanOpCode.CapSet, stage ?? "set capabilities", 0, [U32List(ambient), U32List(drop)], [effective, permitted, inheritable, probe ?? ulong.MaxValue]);

    /// <summary>
    /// Asks the launcher to clone the child from a thread whose bounding set is already <paramref name="boundingSet"/>
    /// (the one a CAPSET op of this plan sets), so that the op finds nothing to drop. Only a preference: where there
    /// is no such thread the child is cloned with the process's bounding set and the op drops as usual.
    /// </summary>
    public PlanBuilder LaunchWithBoundingSet(ulong boundingSet)
    {
        _launchBoundingSet = boundingSet;
        return this;
    }

    /// <summary>
    /// Masks <paramref name="path"/> (in root) as the container has it: a directory with an empty read-only tmpfs, anything
    /// else with <paramref name="nullDevice"/> (a host path that must be the character device 1:3 itself, not a link).
    /// A path that does not exist needs no mask; any other failure fails the start.
    /// </summary>
    public PlanBuilder Mask(string path, string nullDevice = "/dev/null", string? stage = null) =>
        Add(PlanOpCode.Bind, stage ?? $"mask {path}", PlanOpFlags.Mask | PlanOpFlags.MissingOk, [Str(nullDevice), Str(path)], [0]);

    /// <summary>Fails with ELOOP when <paramref name="path"/> (in root) is reached through a symlink, EXDEV when it is not on a filesystem of statfs type <paramref name="magic"/>; a path that does not exist passes.</summary>
    public PlanBuilder CheckFileSystem(string path, ulong magic, string? stage = null) =>
        Add(PlanOpCode.CheckFs, stage ?? $"check that {path} is a real {path.TrimStart('/')}", PlanOpFlags.MissingOk, [Str(path)], [magic]);

    /// <summary>
    /// Moves the child into a cgroup v1 hierarchy by writing <c>0</c> to that hierarchy's <c>tasks</c> file, open in
    /// <paramref name="tasks"/>: a thread moving itself skips the global lock (and RCU grace period) that a write of
    /// another process's pid takes.
    /// </summary>
    public PlanBuilder JoinCgroup(PlanFd tasks, string stage) => Add(PlanOpCode.CgroupJoin, stage, 0, [], [(ulong)tasks.Slot]);

    /// <summary>unshare(2) of <paramref name="namespaces"/>: a namespace made after an earlier op rather than at the clone.</summary>
    public PlanBuilder Unshare(CloneFlags namespaces, string stage) => Add(PlanOpCode.Unshare, stage, 0, [], [(ulong)namespaces]);

    /// <summary>Brings up the loopback interface (a new network namespace starts with it down).</summary>
    public PlanBuilder LoopbackUp(string? stage = null) => Add(PlanOpCode.LoopbackUp, stage ?? "bring up lo", 0, [], []);

    /// <summary>
    /// Makes a filesystem with the new mount API and moves it onto <paramref name="target"/> (in root):
    /// <c>fsopen(fsType)</c>, one <c>fsconfig</c> per parameter in order (<c>"key=value"</c> sets a string,
    /// <c>"key"</c> a flag; a key may repeat, as overlay's <c>lowerdir+</c> does, so the list has no length limit
    /// but the plan's), <c>fsmount</c> with <paramref name="attributes"/>, <c>move_mount</c>. A value that does not
    /// start with '/' names a path below <paramref name="directory"/>, an imported directory fd.
    /// </summary>
    public PlanBuilder FsMount(string fsType, string target, IReadOnlyList<string> parameters, PlanFd? directory = null,
        MountAttributes attributes = MountAttributes.None, string? stage = null) =>
        Add(PlanOpCode.FsMount, stage ?? $"mount {fsType} on {target}", 0, [Str(fsType), Str(target), StrList(parameters)],
            [directory is { } fd ? (ulong)fd.Slot : ulong.MaxValue, (ulong)attributes]);

    /// <summary>
    /// A tmpfs (<c>fsopen</c>, one <c>fsconfig</c> per <paramref name="parameters"/> item, <c>fsmount</c>) filled with
    /// <paramref name="files"/> through its own mount fd while it is attached nowhere: each a new file of
    /// <paramref name="mode"/>, owned by <paramref name="owner"/> when given. Then <paramref name="attributes"/> are set
    /// and the mount is moved onto <paramref name="target"/> (in root). No write goes through a path, so nothing that
    /// swaps a path for a link while the child works can redirect one.
    /// </summary>
    public PlanBuilder TmpfsFiles(string target, IReadOnlyList<string> parameters, IReadOnlyList<(string Name, byte[] Content)> files,
        uint mode, (uint Uid, uint Gid)? owner, MountAttributes attributes, string? stage = null)
    {
        var contents = files.Select(f => (uint)LengthPrefixed(f.Content)).ToArray();
        return Add(PlanOpCode.TmpfsFiles, stage ?? $"mount a filled tmpfs on {target}", 0,
            [StrList(parameters), Str(target), StrList([.. files.Select(f => f.Name)]), U32List(contents)],
            [mode, owner is { } o ? o.Uid : ulong.MaxValue, owner?.Gid ?? 0, (ulong)attributes]);
    }

    /// <summary>Encodes the plan.</summary>
    public Plan Build()
    {
        var dataStart = PlanLayout.HeaderSize + (_ops.Count * PlanLayout.OpSize);
        var size = dataStart + _data.Count;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderMagic..], PlanLayout.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderVersion..], PlanLayout.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderPlanSize..], (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderHeaderSize..], PlanLayout.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderOpSize..], PlanLayout.OpSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderOpCount..], (uint)_ops.Count);
        var flags = _returnAfterPivot && CanWaitForPivot() ? _flags | PlanFlags.WaitForPivot : _flags;
        BinaryPrimitives.WriteUInt32LittleEndian(span[PlanLayout.HeaderFlags..], (uint)flags);
        BinaryPrimitives.WriteInt32LittleEndian(span[PlanLayout.HeaderCgroupSlot..], _cgroupSlot);
        BinaryPrimitives.WriteUInt64LittleEndian(span[PlanLayout.HeaderCloneFlags..], (ulong)_cloneFlags);

        uint Offset(int relative) => relative < 0 ? 0 : (uint)(dataStart + relative);

        var stages = new string[_ops.Count];
        var codes = new PlanOpCode[_ops.Count];
        for (var i = 0; i < _ops.Count; i++)
        {
            var op = _ops[i];
            var o = span.Slice(PlanLayout.HeaderSize + (i * PlanLayout.OpSize), PlanLayout.OpSize);
            BinaryPrimitives.WriteUInt32LittleEndian(o[PlanLayout.OpCode..], (uint)op.Code);
            BinaryPrimitives.WriteUInt32LittleEndian(o[PlanLayout.OpFlags..], (uint)op.Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(o[PlanLayout.OpStage..], Offset(op.Stage));
            for (var k = 0; k < op.Strings.Length; k++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(o[(PlanLayout.OpStrings + (4 * k))..], Offset(op.Strings[k]));
            }

            for (var k = 0; k < op.Numbers.Length; k++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(o[(PlanLayout.OpNumbers + (8 * k))..], op.Numbers[k]);
            }

            stages[i] = op.StageName;
            codes[i] = op.Code;
        }

        // Lists hold offsets relative to the data start; make them absolute.
        _data.CopyTo(span[dataStart..]);
        foreach (var op in _ops)
        {
            foreach (var list in op.StringLists)
            {
                var count = BinaryPrimitives.ReadUInt32LittleEndian(span[(dataStart + list)..]);
                for (var j = 0; j < count; j++)
                {
                    var at = span[(dataStart + list + 4 + (4 * j))..];
                    BinaryPrimitives.WriteUInt32LittleEndian(at, Offset((int)BinaryPrimitives.ReadUInt32LittleEndian(at)));
                }
            }
        }

        return new Plan(bytes, stages, codes, _importedFds, _usesSync, _cloneFlags, _hasFork, _program, _usesInitBinary, _keepsProgram, _launchBoundingSet);
    }

    private static PlanOpFlags Optional(bool optional) => optional ? PlanOpFlags.Optional : PlanOpFlags.None;

    private static PlanOpFlags MissingOk(bool missingOk) => missingOk ? PlanOpFlags.MissingOk : PlanOpFlags.None;

    /// <summary>Whether the launch can wait for the pivot: a child sharing this memory, with no wait for the parent before it.</summary>
    private bool CanWaitForPivot()
    {
        if (_flags.HasFlag(PlanFlags.ForkLike))
        {
            return false;
        }

        var first = _ops.Find(op => op.Code is PlanOpCode.PivotRoot or PlanOpCode.WaitFd or PlanOpCode.Fork);
        return first?.Code == PlanOpCode.PivotRoot;
    }

    private PlanBuilder Add(PlanOpCode code, string stage, PlanOpFlags flags, int[] strings, ulong[] numbers)
    {
        var lists = code switch
        {
            PlanOpCode.Exec => new[] { strings[1], strings[2] },
            PlanOpCode.FsMount => [strings[2]],
            PlanOpCode.TmpfsFiles => [strings[0], strings[2], strings[3]],
            _ => [],
        };
        _ops.Add(new Op(code, flags, stage, Str(stage), strings, numbers, lists));
        return this;
    }

    private int Str(string? value)
    {
        if (value is null)
        {
            return -1;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"a plan string cannot contain NUL: '{value.Replace("\0", "\\0", StringComparison.Ordinal)}'");
        }

        if (_strings.TryGetValue(value, out var existing))
        {
            return existing;
        }

        var offset = _data.Count;
        _data.AddRange(Encoding.UTF8.GetBytes(value));
        _data.Add(0);
        _strings[value] = offset;
        return offset;
    }

    private int Bytes(ReadOnlySpan<byte> value)
    {
        Align();
        var offset = _data.Count;
        _data.AddRange(value);
        return offset;
    }

    private int LengthPrefixed(ReadOnlySpan<byte> value)
    {
        Align();
        var offset = _data.Count;
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)value.Length);
        _data.AddRange(length);
        _data.AddRange(value);
        return offset;
    }

    private int StrList(IReadOnlyList<string> values)
    {
        var items = values.Select(Str).ToArray();
        return U32List(items.Select(i => (uint)i));
    }

    private int U32List(IEnumerable<uint> values)
    {
        var items = values.ToArray();
        Align();
        var offset = _data.Count;
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(word, (uint)items.Length);
        _data.AddRange(word);
        foreach (var item in items)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(word, item);
            _data.AddRange(word);
        }

        return offset;
    }

    private void Align()
    {
        while (_data.Count % 4 != 0)
        {
            _data.Add(0);
        }
    }

    private sealed record Op(PlanOpCode Code, PlanOpFlags Flags, string StageName, int Stage, int[] Strings,
        ulong[] Numbers, int[] StringLists);
}
