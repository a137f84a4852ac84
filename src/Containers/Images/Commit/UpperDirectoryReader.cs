using System.Runtime.InteropServices;
using System.Text;
using Containers.Images.Layers;
using Containers.Linux;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Commit;

/// <summary>
/// Walks an overlay upper directory in a fixed order (parents first, names in byte order) and decodes overlay's own
/// representation: a 0/0 character device or a file with an <c>overlay.whiteout</c> xattr is a deletion, a
/// directory with <c>overlay.opaque=y</c> hides everything below it; <c>trusted.overlay.*</c> and
/// <c>user.overlay.*</c> xattrs are dropped, <c>user.rootlesscontainers</c> gives the owner. Every entry is opened
/// relative to its parent's fd without following symbolic links, so a container that swaps a directory for a link
/// while it is committed cannot make the walk read outside the upper directory.
/// </summary>
internal sealed unsafe class UpperDirectoryReader
{
    private const int ONonBlock = 0x800;
    private const uint OverflowId = 65534;
    private const string TrustedOverlay = "trusted.overlay.";
    private const string UserOverlay = "user.overlay.";

    private readonly IReadOnlyList<LinuxIdMapping> _uidMappings;
    private readonly IReadOnlyList<LinuxIdMapping> _gidMappings;
    private readonly Dictionary<(uint Major, uint Minor, ulong Ino), byte[]> _links = [];
    private readonly byte[] _names = new byte[64 * 1024];
    private readonly byte[] _value = new byte[64 * 1024];
    private readonly UserNamespaceOpener? _opener;

    /// <param name="uidMappings">The container's uid mappings (host owners are recorded as the ids they map to).</param>
    /// <param name="gidMappings">The container's gid mappings.</param>
    /// <param name="opener">Opens what the caller may not (EACCES) in the container's user namespace; null: such an entry fails the walk.</param>
    public UpperDirectoryReader(IReadOnlyList<LinuxIdMapping>? uidMappings, IReadOnlyList<LinuxIdMapping>? gidMappings, UserNamespaceOpener? opener = null)
    {
        _uidMappings = uidMappings ?? [];
        _gidMappings = gidMappings ?? [];
        _opener = opener;
    }

    /// <summary>Sockets found; a layer cannot hold them (Docker skips them too).</summary>
    public int SkippedSockets { get; private set; }

    /// <summary>Entries whose host owner no mapping covers; they are recorded as 65534 (nobody).</summary>
    public int UnmappedOwners { get; private set; }

    /// <summary>Visits every entry below <paramref name="upperDirectory"/> (not the directory itself).</summary>
    public void Walk(string upperDirectory, Action<UpperEntry> visit, CancellationToken cancellationToken)
    {
        using var root = DirectoryTree.OpenDirectory(upperDirectory);
        if (root.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ImageCommitException($"cannot open the upper directory {upperDirectory}: {Errno.Name(errno)} ({Errno.Describe(errno)})");
        }

        WalkDirectory(root, [], visit, cancellationToken);
    }

    /// <summary>Entries opened in the user namespace at once, when the caller cannot look up a directory's entries itself.</summary>
    private const int OpenBatch = 256;

    private void WalkDirectory(SafeFileHandle dir, byte[] prefix, Action<UpperEntry> visit, CancellationToken cancellationToken)
    {
        var names = ReadNames(dir, prefix);
        names.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        SafeFileHandle[] opened = [];
        int openedFrom = 0;
        try
        {
            for (int i = 0; i < names.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                byte[] path = Join(prefix, names[i]);
                if (i >= openedFrom + opened.Length)
                {
                    if (VisitEntry(dir, names[i], path, visit, cancellationToken))
                    {
                        continue;
                    }

                    // The caller may not look up or open this entry (a directory it cannot search, a file it cannot
                    // read): open it and the entries after it in the container's user namespace, in one child.
                    int count = Math.Min(OpenBatch, names.Count - i);
                    opened = _opener!.Open([.. names.Skip(i).Take(count).Select(n => Join(prefix, n))], cancellationToken);
                    openedFrom = i;
                }

                using var fd = opened[i - openedFrom];
                VisitOpened(fd, path, visit, cancellationToken);
            }
        }
        finally
        {
            foreach (var fd in opened)
            {
                fd.Dispose();
            }
        }
    }

    private static byte[] Join(byte[] prefix, byte[] name) => prefix.Length == 0 ? name : [.. prefix, (byte)'/', .. name];

    /// <summary>Visits an entry the caller opens itself; false (nothing visited) when it may not and the user namespace may.</summary>
    private bool VisitEntry(SafeFileHandle parent, byte[] name, byte[] path, Action<UpperEntry> visit, CancellationToken cancellationToken)
    {
        byte[] z = [.. name, 0];
        StatxBuffer stat;
        fixed (byte* n = z)
        {
            if (Statx(parent, n, AtSymlinkNoFollow, StatxBuffer.BasicStats, &stat) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == Errno.EACCES && _opener is not null ? false : throw Failed("stat", path, errno);
            }
        }

        return VisitNode(
            stat,
            path,
            flags => TryOpenAt(parent, z, flags, path),
            () => (ReadXattrs(parent, z, path, out var xattrs), xattrs),
            () => ReadLink(parent, z, path),
            visit,
            cancellationToken);
    }

    /// <summary>
    /// Visits an entry opened in the user namespace: a directory or regular file readable, anything else an
    /// <c>O_PATH</c> fd. Symbolic links, devices and fifos carry no xattrs a layer keeps when rootless (the kernel
    /// allows <c>user.*</c> xattrs only on files and directories), so theirs are not read; a link is read through
    /// the fd.
    /// </summary>
    private void VisitOpened(SafeFileHandle fd, byte[] path, Action<UpperEntry> visit, CancellationToken cancellationToken) =>
        VisitNode(
            StatFd(fd, path),
            path,
            _ => new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: false),
            () => (default, []),
            () => ReadLink(fd, [0], path),
            visit,
            cancellationToken);

    /// <summary>
    /// Visits one entry by its type: a directory or a regular file through the fd <paramref name="open"/> gives for
    /// the flags (null: the caller may not open it, and false is returned), a whiteout device, a socket (skipped), or
    /// another node whose overlay markers and xattrs and whose link target come from the two readers.
    /// </summary>
    private bool VisitNode(
        in StatxBuffer stat,
        byte[] path,
        Func<int, SafeFileHandle?> open,
        Func<(OverlayMarkers Markers, List<KeyValuePair<string, byte[]>> Xattrs)> readXattrs,
        Func<byte[]> readLink,
        Action<UpperEntry> visit,
        CancellationToken cancellationToken)
    {
        switch (stat.Mode & SIfMt)
        {
            case SIfDir:
                using (var dir = open(ORdOnly | ODirectory | ONoFollow | OCloExec))
                {
                    if (dir is null)
                    {
                        return false;
                    }

                    VisitDirectory(dir, path, visit, cancellationToken);
                }

                break;
            case SIfReg:
                using (var file = open(ORdOnly | ONoFollow | ONonBlock | OCloExec))
                {
                    if (file is null)
                    {
                        return false;
                    }

                    VisitFile(file, path, visit);
                }

                break;
            case SIfChr when stat.RdevMajor == 0 && stat.RdevMinor == 0:
                visit(MakeEntry(path, UpperEntryKind.Whiteout, stat, [], default, content: null, linkTarget: []));
                break;
            case SIfSock:
                SkippedSockets++;
                break;
            case var type:
                var kind = NodeKind(type, path);
                var (markers, xattrs) = readXattrs();
                byte[] target = kind == UpperEntryKind.Symlink ? readLink() : [];
                visit(MakeEntry(path, kind, stat, xattrs, markers, content: null, target));
                break;
        }

        return true;
    }

    private void VisitDirectory(SafeFileHandle dir, byte[] path, Action<UpperEntry> visit, CancellationToken cancellationToken)
    {
        var stat = StatFd(dir, path);
        var markers = ReadXattrs(dir, null, path, out var xattrs);
        visit(MakeEntry(path, UpperEntryKind.Directory, stat, xattrs, markers, content: null, linkTarget: []));
        WalkDirectory(dir, path, visit, cancellationToken);
    }

    private void VisitFile(SafeFileHandle file, byte[] path, Action<UpperEntry> visit)
    {
        var stat = StatFd(file, path);
        if ((stat.Mode & SIfMt) != SIfReg)
        {
            throw new ImageCommitException($"{Display(path)} changed from a regular file while it was committed; stop or pause the container first");
        }

        var markers = ReadXattrs(file, null, path, out var xattrs);
        if (markers.Whiteout && stat.Size == 0)
        {
            visit(MakeEntry(path, UpperEntryKind.Whiteout, stat, [], default, content: null, linkTarget: []));
            return;
        }

        if (stat.Nlink > 1)
        {
            var key = (stat.DevMajor, stat.DevMinor, stat.Ino);
            if (_links.TryGetValue(key, out var first))
            {
                visit(MakeEntry(path, UpperEntryKind.HardLink, stat, [], markers, content: null, linkTarget: first));
                return;
            }

            _links[key] = path;
        }

        visit(MakeEntry(path, UpperEntryKind.RegularFile, stat, xattrs, markers, file, linkTarget: []));
    }

    private static UpperEntryKind NodeKind(uint type, byte[] path) => type switch
    {
        SIfLnk => UpperEntryKind.Symlink,
        SIfChr => UpperEntryKind.CharacterDevice,
        SIfBlk => UpperEntryKind.BlockDevice,
        SIfIfo => UpperEntryKind.Fifo,
        _ => throw new ImageCommitException($"{Display(path)} has the unknown file type 0{type:o}"),
    };

    private UpperEntry MakeEntry(byte[] path, UpperEntryKind kind, in StatxBuffer stat, List<KeyValuePair<string, byte[]>> xattrs, OverlayMarkers markers, SafeFileHandle? content, byte[] linkTarget)
    {
        // A rootless snapshot's recorded owner comes up with a file that overlay copied up, and stands for the file's
        // owner while the file still has the one the snapshot gave it (the container's root); a chown inside made
        // the real owner the container's choice.
        var (uid, gid) = (ToContainer(stat.Uid, _uidMappings), ToContainer(stat.Gid, _gidMappings));
        (uid, gid) = (uid, gid) == (0, 0) && markers.RootlessOwner is { } recorded ? recorded : (uid, gid);
        return new UpperEntry
        {
            Path = path,
            Kind = kind,
            Mode = stat.Mode & 0xFFFu,
            Uid = uid,
            Gid = gid,
            Size = kind == UpperEntryKind.RegularFile ? (long)stat.Size : 0,
            ModificationSeconds = stat.MtimeSeconds,
            DeviceMajor = stat.RdevMajor,
            DeviceMinor = stat.RdevMinor,
            LinkTarget = linkTarget,
            Opaque = markers.Opaque,
            Xattrs = xattrs,
            Content = content,
        };
    }

    /// <summary>The container's id for a host id, through the mappings the container ran with.</summary>
    private uint ToContainer(uint hostId, IReadOnlyList<LinuxIdMapping> mappings)
    {
        if (mappings.Count == 0)
        {
            return hostId;
        }

        foreach (var mapping in mappings)
        {
            if (hostId >= mapping.HostId && hostId - mapping.HostId < mapping.Size)
            {
                return mapping.ContainerId + (hostId - mapping.HostId);
            }
        }

        UnmappedOwners++;
        return OverflowId;
    }

    /// <summary>
    /// Reads the xattrs of an fd (<paramref name="name"/> null) or of a node that has no usable fd (symlinks, devices,
    /// fifos: through <c>/proc/self/fd/PARENT/NAME</c>, not following the last component), keeping those a layer
    /// carries and decoding overlay's markers.
    /// </summary>
    private OverlayMarkers ReadXattrs(SafeFileHandle fd, byte[]? name, byte[] path, out List<KeyValuePair<string, byte[]>> kept)
    {
        kept = [];
        var markers = default(OverlayMarkers);
        byte[]? procPath = name is null ? null : [.. Encoding.ASCII.GetBytes($"/proc/self/fd/{fd.DangerousGetHandle()}/"), .. name];
        nint length;
        fixed (byte* list = _names)
        fixed (byte* p = procPath)
        {
            length = procPath is null ? Flistxattr(fd, list, (nuint)_names.Length) : Llistxattr(p, list, (nuint)_names.Length);
        }

        if (length < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.EOPNOTSUPP)
            {
                return markers;
            }

            throw Failed("list the xattrs of", path, errno);
        }

        int start = 0;
        for (int i = 0; i < length; i++)
        {
            if (_names[i] != 0)
            {
                continue;
            }

            string key = Encoding.UTF8.GetString(_names, start, i - start);
            byte[] keyZ = _names.AsSpan(start, i - start + 1).ToArray();
            start = i + 1;
            if (key.StartsWith(TrustedOverlay, StringComparison.Ordinal) || key.StartsWith(UserOverlay, StringComparison.Ordinal))
            {
                string what = key[(key.IndexOf(".overlay.", StringComparison.Ordinal) + ".overlay.".Length)..];
                switch (what)
                {
                    case "opaque":
                        markers.Opaque |= ReadValue(fd, procPath, keyZ, path, key) is [(byte)'y'];
                        break;
                    case "whiteout":
                        markers.Whiteout = true;
                        break;
                    case "metacopy" or "redirect":
                        throw new ImageCommitException(
                            $"{Display(path)} carries the overlay xattr {key}: the upper directory was written with overlay's metacopy or redirect_dir feature, whose entries hold only part of a file; mount the container's overlay without them to commit it");
                }

                continue;
            }

            byte[] value = ReadValue(fd, procPath, keyZ, path, key);
            if (key == RootlessOwnership.XattrName)
            {
                try
                {
                    markers.RootlessOwner = RootlessOwnership.Decode(value);
                }
                catch (FormatException e)
                {
                    throw new ImageCommitException($"{Display(path)}: the {key} xattr is malformed: {e.Message}", e);
                }

                continue;
            }

            kept.Add(new(key, value));
        }

        return markers;
    }

    private byte[] ReadValue(SafeFileHandle fd, byte[]? procPath, byte[] keyZ, byte[] path, string key)
    {
        nint length;
        fixed (byte* k = keyZ)
        fixed (byte* p = procPath)
        fixed (byte* v = _value)
        {
            length = procPath is null ? Fgetxattr(fd, k, v, (nuint)_value.Length) : Lgetxattr(p, k, v, (nuint)_value.Length);
        }

        if (length < 0)
        {
            throw Failed($"read the xattr {key} of", path, Marshal.GetLastPInvokeError());
        }

        return _value.AsSpan(0, (int)length).ToArray();
    }

    private byte[] ReadLink(SafeFileHandle parent, byte[] nameZ, byte[] path)
    {
        nint length;
        fixed (byte* n = nameZ)
        fixed (byte* v = _value)
        {
            length = Readlinkat(parent, n, v, (nuint)_value.Length);
        }

        if (length < 0)
        {
            throw Failed("read the symbolic link", path, Marshal.GetLastPInvokeError());
        }

        return _value.AsSpan(0, (int)length).ToArray();
    }

    private List<byte[]> ReadNames(SafeFileHandle dir, byte[] path)
    {
        var names = new List<byte[]>();
        fixed (byte* buffer = _names)
        {
            while (true)
            {
                nint read = Getdents64(dir, buffer, (nuint)_names.Length);
                if (read < 0)
                {
                    throw Failed("list", path, Marshal.GetLastPInvokeError());
                }

                if (read == 0)
                {
                    return names;
                }

                // linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
                for (nint offset = 0; offset < read;)
                {
                    byte* record = buffer + offset;
                    offset += *(ushort*)(record + 16);
                    var entryName = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(record + 19);
                    if (entryName is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                    {
                        names.Add(entryName.ToArray());
                    }
                }
            }
        }
    }

    /// <summary>Opens an entry relative to its parent; null when the caller may not (EACCES) and the user namespace may.</summary>
    private SafeFileHandle? TryOpenAt(SafeFileHandle parent, byte[] nameZ, int flags, byte[] path)
    {
        SafeFileHandle fd;
        fixed (byte* n = nameZ)
        {
            fd = Openat(parent, n, flags, 0);
        }

        if (fd.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            return errno == Errno.EACCES && _opener is not null ? null : throw Failed("open", path, errno);
        }

        return fd;
    }

    private static StatxBuffer StatFd(SafeFileHandle fd, byte[] path)
    {
        StatxBuffer stat;
        byte empty = 0;
        if (Statx(fd, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) != 0)
        {
            throw Failed("stat", path, Marshal.GetLastPInvokeError());
        }

        return stat;
    }

    private static string Display(byte[] path) => "/" + Encoding.UTF8.GetString(path);

    private static ImageCommitException Failed(string action, byte[] path, int errno) => errno switch
    {
        Errno.ENOENT or Errno.ELOOP or Errno.ENOTDIR =>
            new ImageCommitException($"{Display(path)} changed while it was committed ({Errno.Name(errno)}); stop or pause the container first"),

        // Without root, what the caller cannot open is opened in a user namespace with the container's mappings; what
        // is left is an xattr of an entry the caller may not read, or an owner outside those mappings.
        Errno.EACCES => new ImageCommitException(
            $"cannot {action} {Display(path)} in the upper directory: EACCES ({Errno.Describe(errno)}): the container made it unreadable to this user "
            + "(by its mode, or by giving it to a user outside the container's mappings), and only root reads past that on the host: "
            + "commit as root, or make it readable inside the container (chmod) and commit again"),
        _ => new ImageCommitException($"cannot {action} {Display(path)} in the upper directory: {Errno.Name(errno)} ({Errno.Describe(errno)})"),
    };

    private struct OverlayMarkers
    {
        public bool Opaque;
        public bool Whiteout;
        public (uint Uid, uint Gid)? RootlessOwner;
    }
}
