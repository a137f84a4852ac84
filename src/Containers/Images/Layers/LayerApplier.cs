using System.Runtime.InteropServices;
using System.Text;
using Containers.Images.Snapshots;
using Containers.Linux;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Layers;

/// <summary>
/// Writes tar entries into a snapshot directory. Every parent is opened with openat2
/// (<c>RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS</c>) from the snapshot root for each entry, so no entry is ever written
/// through a symbolic link or outside the root, and nothing resolved for one entry is reused for the next. The last
/// component is created with <c>O_EXCL</c>/<c>O_NOFOLLOW</c> semantics and its owner, mode, xattrs and times are set
/// through the new fd (or the O_PATH fd of a node that cannot be opened). Directory modes and times are set last.
/// OCI whiteouts become overlay whiteouts.
/// </summary>
internal sealed unsafe class LayerApplier : ITarEntryHandler, IDisposable
{
    private const string WhiteoutPrefix = ".wh.";
    private const uint ImplicitDirectoryMode = 0x1ED; // 0755

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly ulong Resolve = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks | ResolveNoXdev;

    private readonly SafeFileHandle _root;
    private readonly LayerApplyOptions _options;
    private readonly ILogger _logger;
    private readonly uint _euid = LibC.geteuid();
    private readonly uint _egid = LibC.getegid();
    private readonly uint _umask = ProcessUmask();
    private readonly Dictionary<string, DirectoryMetadata> _directories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileOwner> _owners = new(StringComparer.Ordinal);
    private readonly byte[] _scratch = new byte[4097];
    private readonly byte[] _opaqueName;
    private SafeFileHandle? _file;
    private TarEntry? _entry;
    private string _entryKey = string.Empty;
    private int _skippedXattrs;

    public LayerApplier(SafeFileHandle root, LayerApplyOptions options, ILogger logger)
    {
        _root = root;
        _options = options;
        _logger = logger;
        _opaqueName = DirectoryTree.NulTerminated(options.OpaqueXattr);
    }

    /// <summary>Entries applied so far.</summary>
    public long EntryCount { get; private set; }

    /// <summary>
    /// The owners a rootless apply with subordinate ids left for <see cref="ForeignOwners.GiveAsync"/> instead of
    /// recording them in <c>user.rootlesscontainers</c>: entries of the layer not owned by 0:0 whose ids the ranges
    /// hold and whose names are UTF-8. The snapshot's root stays the caller's.
    /// </summary>
    public IReadOnlyCollection<FileOwner> Owners => _owners.Values;

    public void BeginEntry(TarEntry entry)
    {
        _entry = entry;
        _entryKey = string.Empty;
        EntryCount++;
        var normalized = EntryPath.Normalize(entry.Name, out string? reason)
            ?? throw Invalid(reason!);
        var path = normalized;
        if (path.IsRoot)
        {
            if (entry.Type != TarEntryType.Directory)
            {
                throw Invalid("only a directory entry may name the snapshot root ('.' or '/')");
            }

            ApplyRootDirectory();
            return;
        }

        var baseName = path.BaseName;
        if (baseName.StartsWith(".wh."u8))
        {
            ApplyWhiteout(path);
            return;
        }

        // A later entry of the same name replaces the earlier one, and with it the owner left to give. Only an apply
        // that gives owners needs the name as a key.
        if (_options.SubordinateIds is not null)
        {
            _entryKey = Encoding.Latin1.GetString(path.Path);
            _owners.Remove(_entryKey);
        }

        using var parent = OpenParent(path, create: true);
        fixed (byte* p = path.Bytes)
        {
            byte* name = p + path.BaseNameOffset;
            switch (entry.Type)
            {
                case TarEntryType.RegularFile:
                case TarEntryType.RegularFileV7:
                case TarEntryType.ContiguousFile:
                    _file = CreateFile(parent, name);
                    break;
                case TarEntryType.Directory:
                    ApplyDirectory(parent, name, path);
                    break;
                case TarEntryType.SymbolicLink:
                    ApplySymlink(parent, name);
                    break;
                case TarEntryType.HardLink:
                    ApplyHardLink(parent, name, path);
                    break;
                case TarEntryType.CharacterDevice:
                case TarEntryType.BlockDevice:
                    ApplyDevice(parent, name);
                    break;
                case TarEntryType.Fifo:
                    ApplyNode(parent, name, SIfIfo, 0);
                    break;
                default:
                    throw Invalid($"unsupported entry type '{(char)entry.Type}'");
            }
        }
    }

    public void Data(ReadOnlySpan<byte> data)
    {
        if (_file is null)
        {
            return;
        }

        fixed (byte* p = data)
        {
            nuint offset = 0;
            while (offset < (nuint)data.Length)
            {
                nint written = Write(_file, p + offset, (nuint)data.Length - offset);
                if (written < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw Failed("write", errno);
                }

                offset += (nuint)written;
            }
        }
    }

    public void EndEntry()
    {
        if (_file is null)
        {
            return;
        }

        try
        {
            FinishRegularFile(_file, _entry!);
        }
        finally
        {
            _file.Dispose();
            _file = null;
        }
    }

    /// <summary>Sets the directory modes and times deferred while entries were still being created inside them.</summary>
    public void Complete()
    {
        bool rootSeen = false;
        var times = stackalloc Timespec[2];
        foreach (var (key, metadata) in _directories)
        {
            rootSeen |= key.Length == 0;
            byte[] path = Encoding.Latin1.GetBytes((key.Length == 0 ? "." : key) + "\0");

            SafeFileHandle dir;
            fixed (byte* p = path)
            {
                dir = Openat2(_root, p, ORdOnly | ODirectory | OCloExec, Resolve);
            }

            using (dir)
            {
                if (dir.IsInvalid)
                {
                    // The directory was replaced by a later entry of the layer; its metadata no longer applies.
                    continue;
                }

                Check(Fchmod(dir, metadata.Mode), "chmod", key);
                times[0] = times[1] = new Timespec { Seconds = metadata.Seconds, Nanoseconds = metadata.Nanoseconds };
                Check(Futimens(dir, times), "set times of", key);
            }
        }

        if (!rootSeen)
        {
            Check(Fchmod(_root, ImplicitDirectoryMode), "chmod", ".");
        }

        if (_skippedXattrs > 0)
        {
            _logger.LogWarning(
                "A rootless store cannot hold {Count} xattrs of this layer outside the user.* namespace; they were skipped",
                _skippedXattrs);
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    private void ApplyRootDirectory()
    {
        var entry = _entry!;
        using var root = OpenBeneath("."u8, ORdOnly | ODirectory);
        SetOwner(root, entry, existing: true);
        SetXattrs(root, entry);
        _directories[string.Empty] = DirectoryMetadata.From(entry);
    }

    private SafeFileHandle CreateFile(SafeFileHandle parent, byte* name)
    {
        // Created owner-writable first when unprivileged: user.* xattrs need write permission to be set.
        uint mode = _options.Rootless ? 0x180 : _entry!.Mode & 0x1FF;
        int flags = OWrOnly | OCreat | OExcl | ONoFollow | OCloExec | ONoCtty;
        var file = Openat(parent, name, flags, mode);
        if (file.IsInvalid && Marshal.GetLastPInvokeError() == Errno.EEXIST)
        {
            file.Dispose();
            RemoveExisting(parent, name, newIsDirectory: false);
            file = Openat(parent, name, flags, mode);
        }

        if (file.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            file.Dispose();
            throw Failed("create", errno);
        }

        return file;
    }

    private void FinishRegularFile(SafeFileHandle file, TarEntry entry)
    {
        bool chowned = SetOwner(file, entry);
        SetXattrs(file, entry);
        uint created = _options.Rootless ? 0x180 : entry.Mode & 0x1FF & ~_umask;
        if (created != entry.Mode || (chowned && (entry.Mode & 0xC00) != 0))
        {
            Check(Fchmod(file, entry.Mode), "chmod");
        }

        var times = stackalloc Timespec[2];
        Times(entry, times);
        Check(Futimens(file, times), "set times of");
    }

    private void ApplyDirectory(SafeFileHandle parent, byte* name, EntryPath path)
    {
        var entry = _entry!;
        bool opaque = false;
        bool created = true;
        if (Mkdirat(parent, name, 0x1C0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EEXIST)
            {
                throw Failed("mkdir", errno);
            }

            var existing = RemoveExisting(parent, name, newIsDirectory: true);
            created = existing != ExistingEntry.Directory;
            if (created)
            {
                // A directory re-created where this layer whited out its lower namesake hides the lower content.
                opaque = existing == ExistingEntry.Whiteout;
                if (Mkdirat(parent, name, 0x1C0) != 0)
                {
                    throw Failed("mkdir", Marshal.GetLastPInvokeError());
                }
            }
        }

        using var dir = Openat(parent, name, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
        if (dir.IsInvalid)
        {
            throw Failed("open directory", Marshal.GetLastPInvokeError());
        }

        SetOwner(dir, entry, existing: !created);
        SetXattrs(dir, entry);
        if (opaque)
        {
            SetOpaque(dir);
        }

        _directories[Encoding.Latin1.GetString(path.Path)] = DirectoryMetadata.From(entry);
    }

    private void ApplySymlink(SafeFileHandle parent, byte* name)
    {
        var entry = _entry!;
        if (entry.LinkName.Length == 0)
        {
            throw Invalid("symbolic link with an empty target");
        }

        byte[] target = new byte[entry.LinkName.Length + 1];
        entry.LinkName.CopyTo(target, 0);
        fixed (byte* t = target)
        {
            if (Symlinkat(t, parent, name) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EEXIST)
                {
                    throw Failed("symlink", errno);
                }

                RemoveExisting(parent, name, newIsDirectory: false);
                if (Symlinkat(t, parent, name) != 0)
                {
                    throw Failed("symlink", Marshal.GetLastPInvokeError());
                }
            }
        }

        if (_options.Rootless)
        {
            LeaveOwner(entry, link: true);
        }
        else if (entry.Uid != _euid || entry.Gid != _egid)
        {
            Check(Fchownat(parent, name, (uint)entry.Uid, (uint)entry.Gid, AtSymlinkNoFollow), "chown");
        }

        if (entry.Xattrs.Count > 0)
        {
            SetXattrsByProcPath(parent, name, entry, followFinal: false);
        }

        var times = stackalloc Timespec[2];
        Times(entry, times);
        Check(Utimensat(parent, name, times, AtSymlinkNoFollow), "set times of");
    }

    private void ApplyHardLink(SafeFileHandle parent, byte* name, EntryPath path)
    {
        var entry = _entry!;
        var target = EntryPath.Normalize(entry.LinkName, out string? reason)
            ?? throw Invalid($"hard link target '{Encoding.UTF8.GetString(entry.LinkName)}': {reason}");
        if (target.IsRoot)
        {
            throw Invalid("hard link to the snapshot root");
        }

        if (target.Path.SequenceEqual(path.Path))
        {
            throw Invalid("hard link to itself");
        }

        using var targetParent = OpenParent(target, create: false);
        fixed (byte* t = target.Bytes)
        {
            byte* targetName = t + target.BaseNameOffset;
            if (Linkat(targetParent, targetName, parent, name, 0) == 0)
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EEXIST)
            {
                RemoveExisting(parent, name, newIsDirectory: false);
                if (Linkat(targetParent, targetName, parent, name, 0) == 0)
                {
                    return;
                }

                errno = Marshal.GetLastPInvokeError();
            }

            string display = Encoding.UTF8.GetString(entry.LinkName);
            throw errno switch
            {
                Errno.ENOENT => Invalid($"hard link target '{display}' does not exist earlier in this layer"),
                Errno.EPERM => Invalid($"hard link target '{display}' is a directory"),
                Errno.EMLINK => Invalid($"hard link target '{display}' has too many links"),
                _ => Failed("link", errno),
            };
        }
    }

    private void ApplyDevice(SafeFileHandle parent, byte* name)
    {
        var entry = _entry!;
        // The kernel's dev_t holds a 12-bit major and a 20-bit minor number.
        if (entry.DeviceMajor is < 0 or > 0xFFF || entry.DeviceMinor is < 0 or > 0xFFFFF)
        {
            throw Invalid($"device number {entry.DeviceMajor}:{entry.DeviceMinor} is out of range (major ≤ 4095, minor ≤ 1048575)");
        }

        if (_options.Rootless)
        {
            // Without CAP_MKNOD a device is kept as an empty file carrying its owner, as umoci's rootless mode does.
            using var file = CreateFile(parent, name);
            FinishRegularFile(file, entry);
            return;
        }

        uint type = entry.Type == TarEntryType.CharacterDevice ? SIfChr : SIfBlk;
        ApplyNode(parent, name, type, MakeDev((uint)entry.DeviceMajor, (uint)entry.DeviceMinor));
    }

    private void ApplyNode(SafeFileHandle parent, byte* name, uint type, ulong device)
    {
        var entry = _entry!;
        uint mode = type | (entry.Mode & 0x1FF);
        if (Mknodat(parent, name, mode, device) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EEXIST)
            {
                throw Failed("mknod", errno);
            }

            RemoveExisting(parent, name, newIsDirectory: false);
            if (Mknodat(parent, name, mode, device) != 0)
            {
                throw Failed("mknod", Marshal.GetLastPInvokeError());
            }
        }

        // A device or fifo must not be opened for I/O: O_PATH gives an fd to set metadata through.
        using var node = Openat(parent, name, OPath | ONoFollow | OCloExec, 0);
        if (node.IsInvalid)
        {
            throw Failed("open", Marshal.GetLastPInvokeError());
        }

        byte empty = 0;
        bool chowned = false;
        if (_options.Rootless)
        {
            LeaveOwner(entry, link: false);
        }
        else if (entry.Uid != _euid || entry.Gid != _egid)
        {
            Check(Fchownat(node, &empty, (uint)entry.Uid, (uint)entry.Gid, AtEmptyPath), "chown");
            chowned = true;
        }

        if (entry.Xattrs.Count > 0)
        {
            SetXattrsByProcPath(node, null, entry, followFinal: true);
        }

        if ((entry.Mode & ~_umask & 0x1FF) != entry.Mode || chowned)
        {
            int result = Fchmodat2(node, &empty, entry.Mode, AtEmptyPath);
            if (result != 0 && Marshal.GetLastPInvokeError() == Errno.ENOSYS)
            {
                result = Fchmodat(parent, name, entry.Mode, 0);
            }

            Check(result, "chmod");
        }

        var times = stackalloc Timespec[2];
        Times(entry, times);
        Check(Utimensat(node, &empty, times, AtEmptyPath), "set times of");
    }

    private void ApplyWhiteout(EntryPath path)
    {
        var baseName = path.BaseName;
        if (baseName.SequenceEqual(".wh..wh..opq"u8))
        {
            using var dir = OpenBeneath(path.LastSlash < 0 ? "."u8 : path.Parent, ORdOnly | ODirectory, create: true);
            SetOpaque(dir);
            return;
        }

        if (baseName.StartsWith(".wh..wh."u8))
        {
            // Other aufs metadata (.wh..wh.plnk, .wh..wh.aufs) has no meaning for overlay.
            return;
        }

        var hidden = baseName[WhiteoutPrefix.Length..];
        if (hidden.IsEmpty || hidden.SequenceEqual("."u8) || hidden.SequenceEqual(".."u8))
        {
            throw Invalid("whiteout of '.', '..' or the root: a whiteout must name an entry inside its directory");
        }

        using var parent = OpenParent(path, create: true);
        byte[] target = new byte[hidden.Length + 1];
        hidden.CopyTo(target);
        fixed (byte* t = target)
        {
            if (Mknodat(parent, t, SIfChr, 0) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // Content of this layer with the same name stays: a whiteout only hides lower layers.
                if (errno != Errno.EEXIST)
                {
                    throw errno == Errno.EPERM
                        ? new SnapshotException(
                            $"creating the overlay whiteout for '{_entry!.DisplayName}' failed: EPERM (an unprivileged user needs Linux ≥ 5.8 to create whiteouts)")
                        : Failed("create whiteout", errno);
                }
            }
        }
    }

    private void SetOpaque(SafeFileHandle dir)
    {
        byte value = (byte)'y';
        fixed (byte* n = _opaqueName)
        {
            Check(Fsetxattr(dir, n, &value, 1, 0), $"set {_options.OpaqueXattr} on");
        }
    }

    /// <summary>
    /// Sets the owner through <paramref name="fd"/>; returns whether a chown happened. A new object already belongs
    /// to us, an <paramref name="existing"/> one (a directory listed twice, the root) may carry an earlier owner.
    /// </summary>
    private bool SetOwner(SafeFileHandle fd, TarEntry entry, bool existing = false)
    {
        if (_options.Rootless)
        {
            bool given = LeaveOwner(entry, link: false);
            if (!given && RootlessOwnership.Encode((uint)entry.Uid, (uint)entry.Gid) is byte[] value)
            {
                SetXattr(fd, RootlessOwnership.XattrName, value);
            }
            else if (existing)
            {
                RemoveRootlessOwner(fd);
            }

            return false;
        }

        if (entry.Uid == _euid && entry.Gid == _egid && !existing)
        {
            return false;
        }

        Check(Fchown(fd, (uint)entry.Uid, (uint)entry.Gid), "chown");
        return true;
    }

    /// <summary>
    /// Leaves the current entry's owner for <see cref="Owners"/> when the subordinate ranges hold its ids (id N is the
    /// Nth subordinate id, 0 the caller) and its name is UTF-8; returns whether it did. An owner of 0:0 is already
    /// the caller and needs nothing.
    /// </summary>
    private bool LeaveOwner(TarEntry entry, bool link)
    {
        // The snapshot's root (key "") stays the caller's: the store renames and removes it.
        if (_options.SubordinateIds is not { } ids || _entryKey.Length == 0 || entry.Uid < 0 || entry.Gid < 0 || entry.Uid > ids.UidCount || entry.Gid > ids.GidCount)
        {
            return false;
        }

        if (entry.Uid == 0 && entry.Gid == 0)
        {
            return true;
        }

        byte[] name = Encoding.Latin1.GetBytes(_entryKey);
        string path;
        try
        {
            path = StrictUtf8.GetString(name);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        _owners[_entryKey] = new FileOwner(path, (uint)entry.Uid, (uint)entry.Gid, FileOwner.ModeToRestore(entry.Mode, link));
        return true;
    }

    private void RemoveRootlessOwner(SafeFileHandle fd)
    {
        byte[] name = DirectoryTree.NulTerminated(RootlessOwnership.XattrName);
        fixed (byte* n = name)
        {
            // ENODATA: the directory never had a recorded owner.
            if (Fremovexattr(fd, n) != 0 && Marshal.GetLastPInvokeError() != Errno.ENODATA)
            {
                throw Failed($"remove xattr {RootlessOwnership.XattrName} from", Marshal.GetLastPInvokeError());
            }
        }
    }

    private void SetXattrs(SafeFileHandle fd, TarEntry entry)
    {
        foreach (var (key, value) in entry.Xattrs)
        {
            if (AcceptXattr(key))
            {
                SetXattr(fd, key, value);
            }
        }
    }

    private void SetXattr(SafeFileHandle fd, string key, byte[] value)
    {
        byte[] name = DirectoryTree.NulTerminated(key);
        fixed (byte* n = name)
        fixed (byte* v = value)
        {
            Check(Fsetxattr(fd, n, v, (nuint)value.Length, 0), $"set xattr {key} on");
        }
    }

    private void SetXattrsByProcPath(SafeFileHandle dirOrNode, byte* name, TarEntry entry, bool followFinal)
    {
        // Symlinks and O_PATH nodes have no fd that fsetxattr accepts; /proc/self/fd/N pins the directory or node.
        string path = $"/proc/self/fd/{dirOrNode.DangerousGetHandle()}";
        if (name != null)
        {
            path += "/" + Marshal.PtrToStringUTF8((nint)name);
        }

        byte[] p = DirectoryTree.NulTerminated(path);
        foreach (var (key, value) in entry.Xattrs)
        {
            if (!AcceptXattr(key))
            {
                continue;
            }

            if (_options.Rootless)
            {
                // user.* xattrs exist only on regular files and directories.
                _skippedXattrs++;
                continue;
            }

            byte[] n = DirectoryTree.NulTerminated(key);
            fixed (byte* pp = p)
            fixed (byte* nn = n)
            fixed (byte* vv = value)
            {
                int result = followFinal
                    ? Setxattr(pp, nn, vv, (nuint)value.Length, 0)
                    : Lsetxattr(pp, nn, vv, (nuint)value.Length, 0);
                Check(result, $"set xattr {key} on");
            }
        }
    }

    private bool AcceptXattr(string key)
    {
        if (key.StartsWith("trusted.overlay.", StringComparison.Ordinal)
            || key.StartsWith("user.overlay.", StringComparison.Ordinal))
        {
            throw Invalid($"xattr '{key}' is overlayfs metadata; a layer may not supply it (whiteouts and opaque directories are written as .wh. entries)");
        }

        if (key == RootlessOwnership.XattrName)
        {
            throw Invalid($"xattr '{key}' records ownership in rootless stores; a layer may not supply it");
        }

        if (_options.Rootless && !key.StartsWith("user.", StringComparison.Ordinal))
        {
            _skippedXattrs++;
            return false;
        }

        return true;
    }

    private enum ExistingEntry
    {
        None,
        Directory,
        Whiteout,
        Other,
    }

    /// <summary>
    /// Clears the way for a new entry named <paramref name="name"/>: a directory stays when the new entry is a
    /// directory too (its metadata is updated), anything else is removed (directories recursively), as tar does.
    /// </summary>
    private ExistingEntry RemoveExisting(SafeFileHandle parent, byte* name, bool newIsDirectory)
    {
        StatxBuffer stat;
        if (Statx(parent, name, AtSymlinkNoFollow, StatxType | StatxMode, &stat) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ENOENT ? ExistingEntry.None : throw Failed("stat", errno);
        }

        uint type = stat.Mode & SIfMt;
        if (type == SIfDir)
        {
            if (newIsDirectory)
            {
                return ExistingEntry.Directory;
            }

            int result = DirectoryTree.Remove(parent, MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name));
            if (result != 0)
            {
                throw Failed("remove directory", result);
            }

            if (_owners.Count > 0)
            {
                string below = _entryKey + "/";
                foreach (var key in _owners.Keys.Where(k => k.StartsWith(below, StringComparison.Ordinal)).ToList())
                {
                    _owners.Remove(key);
                }
            }

            return ExistingEntry.Directory;
        }

        bool whiteout = type == SIfChr && stat.RdevMajor == 0 && stat.RdevMinor == 0;
        Check(Unlinkat(parent, name, 0), "unlink");
        return whiteout ? ExistingEntry.Whiteout : ExistingEntry.Other;
    }

    private SafeFileHandle OpenParent(EntryPath path, bool create) =>
        OpenBeneath(path.LastSlash < 0 ? "."u8 : path.Parent, OPath | ODirectory, create);

    /// <summary>
    /// Opens <paramref name="relative"/> beneath the root without following any symbolic link; missing directories
    /// are created (0755, like Docker's implicit parents) when <paramref name="create"/> is set.
    /// </summary>
    private SafeFileHandle OpenBeneath(ReadOnlySpan<byte> relative, int flags, bool create = false)
    {
        if (relative.Length >= _scratch.Length)
        {
            throw Invalid("the path is longer than PATH_MAX");
        }

        relative.CopyTo(_scratch);
        _scratch[relative.Length] = 0;
        SafeFileHandle fd;
        fixed (byte* p = _scratch)
        {
            fd = Openat2(_root, p, flags | OCloExec, Resolve);
        }

        if (!fd.IsInvalid)
        {
            return fd;
        }

        int errno = Marshal.GetLastPInvokeError();
        fd.Dispose();
        if (errno == Errno.ENOENT && create)
        {
            return CreateDirectories(relative, flags);
        }

        throw ParentError(relative, errno);
    }

    private SafeFileHandle CreateDirectories(ReadOnlySpan<byte> relative, int flags)
    {
        var current = OpenBeneath("."u8, OPath | ODirectory);
        try
        {
            while (!relative.IsEmpty)
            {
                int slash = relative.IndexOf((byte)'/');
                var component = slash < 0 ? relative : relative[..slash];
                relative = slash < 0 ? default : relative[(slash + 1)..];
                component.CopyTo(_scratch);
                _scratch[component.Length] = 0;
                int openFlags = (relative.IsEmpty ? flags : OPath | ODirectory) | OCloExec;
                SafeFileHandle next;
                fixed (byte* p = _scratch)
                {
                    next = Openat2(current, p, openFlags, Resolve);
                    if (next.IsInvalid && Marshal.GetLastPInvokeError() == Errno.ENOENT)
                    {
                        next.Dispose();
                        if (Mkdirat(current, p, ImplicitDirectoryMode) != 0
                            && Marshal.GetLastPInvokeError() != Errno.EEXIST)
                        {
                            throw Failed("mkdir", Marshal.GetLastPInvokeError());
                        }

                        next = Openat2(current, p, openFlags, Resolve);
                    }
                }

                if (next.IsInvalid)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    next.Dispose();
                    throw ParentError(component, errno);
                }

                current.Dispose();
                current = next;
            }

            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private Exception ParentError(ReadOnlySpan<byte> relative, int errno)
    {
        string parent = Encoding.UTF8.GetString(relative);
        return errno switch
        {
            Errno.ELOOP => Invalid($"'{parent}' passes through a symbolic link; entries are never written through symbolic links"),
            Errno.ENOTDIR => Invalid($"'{parent}' is not a directory"),
            Errno.EXDEV => Invalid($"'{parent}' resolves outside the snapshot"),
            Errno.ENOENT => Invalid($"'{parent}' does not exist earlier in this layer"),
            Errno.ENAMETOOLONG => Invalid($"'{parent}' is too long"),
            _ => Failed($"open '{parent}' for", errno),
        };
    }

    private static void Times(TarEntry entry, Timespec* times)
    {
        times[0] = times[1] = new Timespec { Seconds = entry.ModificationSeconds, Nanoseconds = entry.ModificationNanoseconds };
    }

    private void Check(int result, string operation, string? path = null)
    {
        if (result != 0)
        {
            throw Failed(operation, Marshal.GetLastPInvokeError(), path);
        }
    }

    private InvalidLayerException Invalid(string reason) => new(_entry?.DisplayName, reason);

    private SnapshotException Failed(string operation, int errno, string? path = null) =>
        new($"applying layer entry '{path ?? _entry?.DisplayName}': {operation} failed with {Errno.Name(errno)}");

    private static uint ProcessUmask()
    {
        // umask(2) can only be read by changing it, which races with other threads; /proc reports it read-only.
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Umask:", StringComparison.Ordinal))
            {
                return Convert.ToUInt32(line[6..].Trim(), 8);
            }
        }

        return 0x12; // 022
    }

    private readonly record struct DirectoryMetadata(uint Mode, long Seconds, long Nanoseconds)
    {
        public static DirectoryMetadata From(TarEntry entry) =>
            new(entry.Mode, entry.ModificationSeconds, entry.ModificationNanoseconds);
    }
}
