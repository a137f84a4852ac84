using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// Copies files between the host and a container's root without ever following a link out of that root. The
/// path the caller names is resolved once with <c>openat2(RESOLVE_IN_ROOT)</c> beneath an fd of the container's
/// root (so <c>..</c> and absolute links stop at the root, as they would inside the container); from there every
/// entry is reached by one name relative to its parent's fd with <c>O_NOFOLLOW</c>, and every new entry is made
/// under a temporary name and renamed into place in the same directory fd. A container that swaps a directory for
/// a link while it is copied (CVE-2018-15664) can only make the copy read or write elsewhere inside itself. The
/// host side is handled the same way, so a container's links never lead a copy out on the host either.
/// </summary>
internal sealed unsafe partial class ContainerCopy
{
    private const int ONonBlock = 0x800;
    private const int OWrOnlyCreateExclusive = OWrOnly | OCreat | OExcl;
    private const int Eagain = 11;
    private const int Eexist = 17;
    private const int Eloop = 40;
    private const ulong InRoot = ResolveInRoot | ResolveNoMagicLinks;

    private static readonly (uint Uid, uint Gid) Caller = (LibC.geteuid(), LibC.getegid());

    private readonly Func<uint, uint, (uint Uid, uint Gid)?>? _owner;
    private readonly bool _followSourceLink;
    private readonly ContainerUserNamespace? _sourceNamespace;
    private readonly ContainerUserNamespace? _destinationNamespace;
    private readonly List<(string Path, uint Uid, uint Gid, uint? Mode)> _pendingOwners = [];
    private bool _ownersGiven;

    /// <param name="owner">
    /// The owner (host ids) given to each entry made, from its source's owner (uid, gid); null from it when the
    /// container maps no such ids; the rule itself null to keep the copying process's.
    /// </param>
    /// <param name="followSourceLink">Whether a link named as the source is followed (its target copied under its name), as <c>cp -L</c>.</param>
    /// <param name="sourceNamespace">
    /// Without root, when the source is a container: opens there what the caller may not read (EACCES).
    /// </param>
    /// <param name="destinationNamespace">
    /// Without root, when the destination is a container: gives there the owners the caller may not give (see
    /// <see cref="GiveOwners"/>).
    /// </param>
    public ContainerCopy(Func<uint, uint, (uint Uid, uint Gid)?>? owner, bool followSourceLink = false,
        ContainerUserNamespace? sourceNamespace = null, ContainerUserNamespace? destinationNamespace = null)
    {
        _owner = owner;
        _followSourceLink = followSourceLink;
        _sourceNamespace = sourceNamespace;
        _destinationNamespace = destinationNamespace;
    }

    /// <summary>Entries that are neither files, directories nor links (devices, fifos, sockets): not copied.</summary>
    public int Skipped { get; private set; }

    /// <summary>
    /// Copies <paramref name="sourcePath"/> of the tree under <paramref name="sourceRoot"/> (resolved in it, its
    /// last component not followed) to <paramref name="destinationPath"/> under <paramref name="destinationRoot"/>
    /// (resolved in it, links followed inside it): into it when it is a directory, otherwise as it. All or nothing:
    /// when it fails or is canceled, what it made is removed and what it replaced is put back.
    /// </summary>
    public void Copy(SafeFileHandle sourceRoot, string sourcePath, SafeFileHandle destinationRoot, string destinationPath, CancellationToken cancellationToken)
    {
        var sourceName = LastName(sourcePath);
        using var source = OpenSource(sourceRoot, sourcePath, out var stat);
        var into = sourceName is null ? null : OpenDirectory(destinationRoot, destinationPath, destinationPath);
        string name;
        string display;
        if (into is not null)
        {
            name = sourceName!;
            display = destinationPath.TrimEnd('/') + "/" + name;
        }
        else
        {
            if (destinationPath.EndsWith('/') && (stat.Mode & SIfMt) != SIfDir)
            {
                // As docker cp: a path ending in '/' names a directory, which a file is copied into, so it must exist.
                throw new ContainersIOException($"cannot copy to '{destinationPath}': no such directory (a path ending in '/' names a directory, which must exist)", destinationPath, null);
            }

            name = LastName(destinationPath) ?? throw new ContainersIOException($"cannot copy onto '{destinationPath}': name a directory or a new path", destinationPath, null);
            display = destinationPath;
            into = OpenDirectory(destinationRoot, ParentOf(destinationPath), destinationPath)
                ?? throw Failed(Marshal.GetLastPInvokeError(), "open the directory of", destinationPath);
        }

        using (into)
        {
            AllOrNothing(destinationRoot, () => CopyEntry(source, stat, into, name, display, cancellationToken), cancellationToken);
        }
    }

    /// <summary>
    /// Gives the entries made, in the destination container's user namespace, the owners the caller could not give
    /// them itself (without root, <see cref="ContainerCopyOptions.KeepOwners"/> with ids other than its own).
    /// </summary>
    private void GiveOwners(SafeFileHandle destinationRoot, CancellationToken cancellationToken)
    {
        if (_pendingOwners.Count > 0)
        {
            _ownersGiven = true;
            _destinationNamespace!.Chown(destinationRoot, _pendingOwners, cancellationToken);
            _pendingOwners.Clear();
        }
    }

    private void CopyEntry(SafeFileHandle source, StatxBuffer stat, SafeFileHandle directory, string name, string display, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if ((stat.Mode & SIfMt) is SIfReg or SIfDir or SIfLnk)
        {
            // Checked before the entry is made: an owner that cannot be kept leaves nothing behind for it.
            _ = OwnerOf(stat.Uid, stat.Gid, display);
        }

        switch (stat.Mode & SIfMt)
        {
            case SIfReg:
                CopyFile(source, stat, directory, name, display);
                break;
            case SIfDir:
                CopyDirectory(source, stat, directory, name, display, cancellationToken);
                break;
            case SIfLnk:
                CopyLink(source, stat, directory, name, display);
                break;
            default:
                Skipped++;
                break;
        }
    }

    private void CopyFile(SafeFileHandle source, StatxBuffer stat, SafeFileHandle directory, string name, string display)
    {
        using var input = new FileStream(new SafeFileHandle(source.DangerousGetHandle(), ownsHandle: false), FileAccess.Read, bufferSize: 0);
        MakeFile(input, stat.Uid, stat.Gid, stat.Mode & 0xfffu, stat.MtimeSeconds, stat.MtimeNanoseconds, directory, name, display);
    }

    /// <summary>Makes the file <paramref name="name"/> in <paramref name="directory"/> from <paramref name="content"/>, under a temporary name renamed into place.</summary>
    private void MakeFile(Stream? content, uint uid, uint gid, uint mode, long mtimeSeconds, uint mtimeNanoseconds, SafeFileHandle directory, string name, string display)
    {
        var temporary = TemporaryName(name);
        SafeFileHandle? made = null;
        SafeFileHandle madeIn;
        try
        {
            madeIn = MakeNew(directory, display, "create", where =>
            {
                made?.Dispose();
                made = OpenAt(where, temporary, OWrOnlyCreateExclusive | ONoFollow | OCloExec, 0x180);
                return made.IsInvalid ? Marshal.GetLastPInvokeError() : 0;
            });
        }
        catch
        {
            made?.Dispose();
            throw;
        }

        using (var target = made!)
        {
            try
            {
                if (content is not null)
                {
                    WriteContent(content, target, display);
                }

                SetAttributes(target, uid, gid, mode, mtimeSeconds, mtimeNanoseconds, display);
                PutInPlace(directory, madeIn, temporary, name, display);
            }
            catch
            {
                Unlink(madeIn, temporary, 0);
                throw;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to the new file <paramref name="target"/>; a write the destination refuses
    /// (full, over quota, a failing device) is a <see cref="CopyWriteException"/> naming the entry.
    /// </summary>
    private static void WriteContent(Stream content, SafeFileHandle target, string display)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (ReadContent(content, buffer, display) is var read and > 0)
            {
                fixed (byte* b = buffer)
                {
                    for (var written = 0; written < read;)
                    {
                        var n = Write(target, b + written, (nuint)(read - written));
                        if (n < 0)
                        {
                            var errno = Marshal.GetLastPInvokeError();
                            if (errno == Errno.EINTR)
                            {
                                continue;
                            }

                            throw CopyWriteException.Covers(errno) ? CopyWriteException.For(errno, display) : Failed(errno, "write", display);
                        }

                        written += (int)n;
                    }
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int ReadContent(Stream content, byte[] buffer, string display)
    {
        try
        {
            return content.Read(buffer, 0, buffer.Length);
        }
        catch (IOException e)
        {
            throw new ContainersIOException($"cannot read what is copied to '{display}': {e.Message}", display, e);
        }
    }

    private void CopyDirectory(SafeFileHandle source, StatxBuffer stat, SafeFileHandle directory, string name, string display, CancellationToken cancellationToken)
    {
        using var target = MakeDirectory(directory, name, display);
        foreach (var (child, opened, childStat) in Children(source, display, cancellationToken))
        {
            CopyEntry(opened, childStat, target, child, display + "/" + child, cancellationToken);
        }

        // Set last: a directory made read-only is still filled first. Without root, an existing directory of another
        // of the container's users keeps its own: only its owner may change them.
        if (_destinationNamespace is not null && !_madeDirectories.Contains(KeyOf(target)) && Stat(target, display).Uid != Caller.Uid)
        {
            return;
        }

        SetAttributes(target, stat.Uid, stat.Gid, stat.Mode & 0xfffu, stat.MtimeSeconds, stat.MtimeNanoseconds, display, directory: true);
    }

    /// <summary>Makes the directory <paramref name="name"/> in <paramref name="directory"/> (an existing one is used) and opens it; a link in its place is refused, not followed.</summary>
    private SafeFileHandle MakeDirectory(SafeFileHandle directory, string name, string display)
    {
        bool made;
        fixed (byte* p = Z(name))
        {
            made = Mkdirat(directory, p, 0x1c0) == 0;
            if (!made && Marshal.GetLastPInvokeError() is var errno && errno != Eexist)
            {
                if (errno != Errno.EACCES || _destinationNamespace is null)
                {
                    throw Failed(errno, "create the directory", display);
                }

                if (MakeDirectoryFromStage(directory, name, display) is { } staged)
                {
                    return staged;
                }
            }
        }

        var target = OpenAt(directory, name, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
        if (target.IsInvalid && Marshal.GetLastPInvokeError() == Errno.EACCES && _destinationNamespace is not null)
        {
            // An existing directory in one the caller may not search.
            target.Dispose();
            return OpenDirectory(directory, name, display, follow: false) ?? throw Failed(Marshal.GetLastPInvokeError(), "open the directory", display);
        }

        if (target.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            target.Dispose();
            throw IsLink(directory, name)
                ? new ContainersIOException($"cannot copy into '{display}': it is a symbolic link, which a copy does not follow", display, null)
                : Failed(errno, "open the directory", display);
        }

        if (made)
        {
            try
            {
                MadeDirectory(directory, name, target, null);
            }
            catch
            {
                target.Dispose();
                throw;
            }
        }

        return target;
    }

    private void CopyLink(SafeFileHandle source, StatxBuffer stat, SafeFileHandle directory, string name, string display)
    {
        MakeLink(ReadLink(source, display), stat.Uid, stat.Gid, directory, name, display);
    }

    /// <summary>The target of the link <paramref name="source"/> (an <c>O_PATH</c> fd of the link itself).</summary>
    private static string ReadLink(SafeFileHandle source, string display)
    {
        var buffer = new byte[4096];
        nint length;
        fixed (byte* empty = "\0"u8, b = buffer)
        {
            length = Readlinkat(source, empty, b, (nuint)buffer.Length);
        }

        return length < 0 ? throw Failed(Marshal.GetLastPInvokeError(), "read the link", display) : Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary>Makes the link <paramref name="name"/> to <paramref name="target"/> in <paramref name="directory"/>, under a temporary name renamed into place.</summary>
    private void MakeLink(string target, uint uid, uint gid, SafeFileHandle directory, string name, string display)
    {
        var temporary = TemporaryName(name);
        SafeFileHandle madeIn;
        fixed (byte* t = Z(target), p = Z(temporary))
        {
            var (targetAddress, pathAddress) = ((nint)t, (nint)p);
            madeIn = MakeNew(directory, display, "create the link", where => Symlinkat((byte*)targetAddress, where, (byte*)pathAddress) == 0 ? 0 : Marshal.GetLastPInvokeError());
            if (OwnerOf(uid, gid, display) is { } owner && !Defer(owner, display, mode: null) && Fchownat(madeIn, p, owner.Uid, owner.Gid, AtSymlinkNoFollow) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                Unlink(madeIn, temporary, 0);
                throw OwnerFailed(errno, display, owner);
            }
        }

        try
        {
            PutInPlace(directory, madeIn, temporary, name, display);
        }
        catch
        {
            Unlink(madeIn, temporary, 0);
            throw;
        }
    }

    private void SetAttributes(SafeFileHandle target, uint uid, uint gid, uint mode, long mtimeSeconds, uint mtimeNanoseconds, string display, bool directory = false)
    {
        if (OwnerOf(uid, gid, display) is { } owner && !Defer(owner, display, (mode & 0xc00) != 0 ? mode : null, directory) && Fchown(target, owner.Uid, owner.Gid) != 0)
        {
            throw OwnerFailed(Marshal.GetLastPInvokeError(), display, owner);
        }

        if (Fchmod(target, mode) != 0)
        {
            throw Failed(Marshal.GetLastPInvokeError(), "set the mode of", display);
        }

        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = mtimeSeconds, Nanoseconds = mtimeNanoseconds };
        times[1] = times[0];
        if (Futimens(target, times) != 0)
        {
            throw Failed(Marshal.GetLastPInvokeError(), "set the times of", display);
        }
    }

    /// <summary>
    /// The owner (host ids) an entry made from a source owned by <paramref name="uid"/>:<paramref name="gid"/> gets,
    /// or null to keep the copying process's; checked to be one the copy can give.
    /// </summary>
    /// <exception cref="CopyOwnerException">The container maps no such ids, or, without root, they are not the caller's and no user namespace can give them.</exception>
    private (uint Uid, uint Gid)? OwnerOf(uint uid, uint gid, string display)
    {
        if (_owner is null)
        {
            return null;
        }

        var owner = _owner(uid, gid) ?? throw new CopyOwnerException(display, uid, gid,
            "the container's user namespace maps no such ids (see its uidMappings and gidMappings): copy without keeping owners, or give the source an owner the container maps");
        if (owner != Caller && _destinationNamespace is null && !Environment.IsPrivilegedProcess)
        {
            throw new CopyOwnerException(display, owner.Uid, owner.Gid,
                $"only root may give a host file to another user than itself ({Caller.Uid}:{Caller.Gid}): copy without keeping owners, as root, or as a tar stream ('-'), whose headers keep the owners");
        }

        return owner;
    }

    /// <summary>Whether giving <paramref name="owner"/> to the entry at <paramref name="display"/> is left to the container's user namespace (recorded for <see cref="GiveOwners"/>).</summary>
    private bool Defer((uint Uid, uint Gid) owner, string display, uint? mode, bool directory = false)
    {
        if (owner == Caller || _destinationNamespace is null || Environment.IsPrivilegedProcess)
        {
            return false;
        }

        _pendingOwners.Add((display, owner.Uid, owner.Gid, mode));
        if (directory)
        {
            _deferredDirectories.Add(display);
        }

        return true;
    }

    /// <summary>
    /// Opens the entry at <paramref name="path"/> in <paramref name="root"/> for reading: a link itself, not its
    /// target, unless the copy follows a source link (then the target, resolved in the root one link at a time, so
    /// a link or a target the caller may not reach is opened in the container's user namespace too).
    /// </summary>
    private SafeFileHandle OpenSource(SafeFileHandle root, string path, out StatxBuffer stat)
    {
        const int MaxLinks = 40;
        for (var links = 0; ; links++)
        {
            var handle = OpenNoFollow(root, path);
            stat = Stat(handle, path);
            if (!_followSourceLink || (stat.Mode & SIfMt) != SIfLnk)
            {
                return handle;
            }

            using (handle)
            {
                if (links == MaxLinks)
                {
                    throw Failed(Eloop, "follow the links of", path);
                }

                // As the kernel does: an absolute target starts again at the root, a relative one at the link's directory.
                var target = ReadLink(handle, path);
                path = target.StartsWith('/') ? target : ParentOf(path) + "/" + target;
            }
        }
    }

    /// <summary>
    /// The directory at <paramref name="path"/> in <paramref name="root"/> to make entries in, its last component
    /// followed inside the root unless <paramref name="follow"/> is false; null (errno set) when it is missing or not
    /// a directory. Without root, one the caller may not reach (a directory of another of the container's users,
    /// mode 0700, on the way or at the end) is opened in the container's user namespace: the caller holds its fd but
    /// still may not search it, so every entry goes in through the directory's stage (see <see cref="MakeNew"/>).
    /// There the last component is never followed, and a link is refused.
    /// </summary>
    /// <exception cref="ContainersIOException">It is a link the caller could only follow as the container's root.</exception>
    private SafeFileHandle? OpenDirectory(SafeFileHandle root, string path, string display, bool follow = true)
    {
        var handle = TryOpenInRoot(root, path, ORdOnly | ODirectory | (follow ? 0 : ONoFollow));
        if (handle is not null || Marshal.GetLastPInvokeError() != Errno.EACCES || _destinationNamespace is null)
        {
            return handle;
        }

        var relative = path.Trim('/');
        handle = _destinationNamespace.OpenEach(root, [(relative.Length == 0 ? "." : relative, display)], CancellationToken.None)[0];
        var type = handle is null ? 0 : Stat(handle, display).Mode & SIfMt;
        if (type == SIfDir)
        {
            return handle;
        }

        handle?.Dispose();
        if (type == SIfLnk)
        {
            throw new ContainersIOException(
                $"cannot copy into '{display}': it is a symbolic link in a directory this user may not search, which a copy does not follow (name its target, or copy as root)", display, null);
        }

        Marshal.SetLastPInvokeError(handle is null ? Errno.ENOENT : Errno.ENOTDIR);
        return null;
    }

    /// <summary>The entry at <paramref name="path"/> in <paramref name="root"/>, its last component not followed: readable, or <c>O_PATH</c> for a link.</summary>
    private SafeFileHandle OpenNoFollow(SafeFileHandle root, string path)
    {
        var handle = TryOpenInRoot(root, path, ORdOnly | ONoFollow | ONonBlock);
        if (handle is null && Marshal.GetLastPInvokeError() == Eloop)
        {
            handle = TryOpenInRoot(root, path, OPath | ONoFollow);
        }

        if (handle is null && Marshal.GetLastPInvokeError() == Errno.EACCES && _sourceNamespace is not null)
        {
            var relative = path.Trim('/');
            handle = _sourceNamespace.Open(root, relative.Length == 0 ? "." : relative, path, CancellationToken.None);
        }

        return handle ?? throw Failed(Marshal.GetLastPInvokeError(), "open", path);
    }

    /// <summary>Entries of a directory the container's user namespace opens at once, when the caller may not open one itself.</summary>
    private const int OpenBatch = 256;

    /// <summary>
    /// The entries of <paramref name="directory"/> in name order, each opened (a link as itself) and closed once the
    /// next is asked for; ones removed since the directory was listed (by the running container) are left out, as
    /// Docker's archive writer leaves out what it can no longer add. One the caller may not open is opened in the
    /// container's user namespace together with the entries after it, in one child for up to
    /// <see cref="OpenBatch"/> of them, which also leaves out those gone by then.
    /// </summary>
    private IEnumerable<(string Name, SafeFileHandle Handle, StatxBuffer Stat)> Children(SafeFileHandle directory, string display, CancellationToken cancellationToken)
    {
        var names = ListNames(directory, display).Order(StringComparer.Ordinal).ToList();
        SafeFileHandle?[] batch = [];
        var batchFrom = 0;
        try
        {
            for (var i = 0; i < names.Count; i++)
            {
                var childDisplay = display + "/" + names[i];
                SafeFileHandle? handle;
                if (i < batchFrom + batch.Length)
                {
                    handle = batch[i - batchFrom];
                }
                else if ((handle = OpenChild(directory, names[i], childDisplay, out var denied)) is null && denied)
                {
                    // A file of another of the container's users, or one of its directories this user may not search.
                    var count = Math.Min(OpenBatch, names.Count - i);
                    batch = _sourceNamespace!.OpenEach(directory, [.. names.GetRange(i, count).Select(n => (n, display + "/" + n))], cancellationToken);
                    batchFrom = i;
                    handle = batch[0];
                }

                if (handle is null)
                {
                    continue;
                }

                using (handle)
                {
                    yield return (names[i], handle, Stat(handle, childDisplay));
                }
            }
        }
        finally
        {
            foreach (var fd in batch)
            {
                fd?.Dispose();
            }
        }
    }

    /// <summary>
    /// Opens one entry of a directory by name, a link as itself; null when it vanished meanwhile, or when the caller
    /// may not open it and the container's user namespace may (<paramref name="denied"/>).
    /// </summary>
    private SafeFileHandle? OpenChild(SafeFileHandle directory, string name, string display, out bool denied)
    {
        denied = false;
        var handle = OpenAt(directory, name, ORdOnly | ONoFollow | ONonBlock | OCloExec, 0);
        if (handle.IsInvalid && Marshal.GetLastPInvokeError() == Eloop)
        {
            handle.Dispose();
            handle = OpenAt(directory, name, OPath | ONoFollow | OCloExec, 0);
        }

        if (!handle.IsInvalid)
        {
            return handle;
        }

        var errno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        denied = errno == Errno.EACCES && _sourceNamespace is not null;
        return denied || errno == Errno.ENOENT ? null : throw Failed(errno, "open", display);
    }

    /// <summary>The names in a directory, read through its fd (one opened in a container's user namespace is listed too).</summary>
    private static IEnumerable<string> ListNames(SafeFileHandle directory, string display)
    {
        var names = new List<byte[]>();
        var errno = DirectoryTree.ListNames(directory, names);
        return errno != 0 ? throw Failed(errno, "list", display) : names.Select(n => Encoding.UTF8.GetString(n));
    }

    private static StatxBuffer Stat(SafeFileHandle handle, string display)
    {
        StatxBuffer stat;
        byte empty = 0;
        if (Statx(handle, &empty, AtEmptyPath | AtSymlinkNoFollow, StatxBuffer.BasicStats, &stat) != 0)
        {
            throw Failed(Marshal.GetLastPInvokeError(), "read the metadata of", display);
        }

        return stat;
    }

    /// <summary>Resolves <paramref name="path"/> beneath <paramref name="root"/> as if it were <c>/</c>; null (errno set) when it fails.</summary>
    private static SafeFileHandle? TryOpenInRoot(SafeFileHandle root, string path, int flags)
    {
        var relative = path.TrimStart('/');
        fixed (byte* p = Z(relative.Length == 0 ? "." : relative))
        {
            // EAGAIN: a rename raced with a '..' in the walk; the kernel asks for a retry rather than risk an escape.
            for (var attempt = 0; ; attempt++)
            {
                var handle = Openat2(root, p, flags | OCloExec, InRoot);
                if (!handle.IsInvalid)
                {
                    return handle;
                }

                var errno = Marshal.GetLastPInvokeError();
                handle.Dispose();
                if (errno != Eagain || attempt == 100)
                {
                    Marshal.SetLastPInvokeError(errno);
                    return null;
                }
            }
        }
    }

    private static bool IsLink(SafeFileHandle directory, string name) => TypeOf(directory, name) == SIfLnk;

    /// <summary>The type (<c>S_IFMT</c> bits) of the entry <paramref name="name"/> in <paramref name="directory"/>, not followed; null (errno set) when it cannot be looked up.</summary>
    private static uint? TypeOf(SafeFileHandle directory, string name)
    {
        StatxBuffer stat;
        fixed (byte* p = Z(name))
        {
            return Statx(directory, p, AtSymlinkNoFollow, StatxType, &stat) == 0 ? stat.Mode & SIfMt : null;
        }
    }

    private static SafeFileHandle OpenAt(SafeFileHandle directory, string name, int flags, uint mode)
    {
        fixed (byte* p = Z(name))
        {
            return Openat(directory, p, flags, mode);
        }
    }

    private static void Unlink(SafeFileHandle directory, string name, int flags)
    {
        fixed (byte* p = Z(name))
        {
            _ = Unlinkat(directory, p, flags);
        }
    }

    /// <summary>The last component of a path, or null for the root itself (<c>/</c>, <c>.</c>, <c>..</c>).</summary>
    private static string? LastName(string path)
    {
        var name = Path.GetFileName(path.TrimEnd('/'));
        return name is "" or "." or ".." ? null : name;
    }

    private static string ParentOf(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash switch
        {
            < 0 => ".",
            0 => "/",
            _ => trimmed[..slash],
        };
    }

    private static string TemporaryName(string name) => $".{(name.Length > 200 ? name[..200] : name)}.cp-{Guid.NewGuid().ToString("N")[..8]}";

    private static byte[] Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    private static ContainersIOException OwnerFailed(int errno, string path, (uint Uid, uint Gid) owner) =>
        errno == Errno.EPERM
            ? new($"cannot give '{path}' the owner {owner.Uid}:{owner.Gid}: EPERM (only root may give a file to another user): copy without keeping owners, or as root", path, null)
            : Failed(errno, "set the owner of", path);

    /// <summary>The error for <paramref name="operation"/> on <paramref name="path"/>; a full filesystem or a spent quota (only writes meet them) is a <see cref="CopyWriteException"/>.</summary>
    private static ContainersIOException Failed(int errno, string operation, string path) =>
        errno is Errno.ENOSPC or Errno.EDQUOT ? CopyWriteException.For(errno, path)
        : new ContainersIOException($"cannot {operation} '{path}': {Errno.Name(errno)} ({Errno.Describe(errno)})", path, null);
}
