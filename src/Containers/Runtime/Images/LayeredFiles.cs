using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime.Images;

/// <summary>
/// Reads files of an image as its container will see them, from the snapshot directories the overlay stacks (top
/// first), before any mount exists: a name is taken from the topmost layer that has it, a whiteout (a 0/0 character
/// device) hides it, an opaque directory hides the layers below, and symbolic links are followed the way
/// <c>openat2(RESOLVE_IN_ROOT)</c> follows them: an absolute target and every <c>..</c> stay inside the image's root.
/// Each layer is only ever entered through real directories (<c>RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS</c>), so no
/// link in an image reaches the host.
/// </summary>
internal sealed class LayeredFiles
{
    private const int MaxLinks = 40; // the kernel's limit on links followed in one lookup
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const uint StatxOwners = 0x8 | 0x10; // STATX_UID | STATX_GID

    private readonly IReadOnlyList<string> _layers;
    private readonly byte[] _opaqueXattr;

    /// <param name="layers">The layer directories, top first (the overlay's <c>lowerdir</c> order).</param>
    /// <param name="opaqueXattr"><c>trusted.overlay.opaque</c>, or <c>user.overlay.opaque</c> in a rootless store.</param>
    public LayeredFiles(IReadOnlyList<string> layers, string opaqueXattr)
    {
        _layers = layers;
        _opaqueXattr = Encoding.UTF8.GetBytes(opaqueXattr + "\0");
    }

    /// <summary>The contents of the regular file at <paramref name="path"/> (absolute, in the image), or null when nothing is there.</summary>
    /// <exception cref="ContainersException">Something other than a regular file is there, the file is larger than <paramref name="maxBytes"/>, links loop, or a layer cannot be read.</exception>
    public byte[]? ReadFile(string path, int maxBytes)
    {
        if (Locate(path) is not { Directory: false } found)
        {
            return null;
        }

        var (layer, relative) = (_layers[found.Layers[0]], found.Relative);

        using var root = OpenRoot(layer);
        using var file = Open(root, relative, ORdOnly | OCloExec | ONoFollow);
        if (file.IsInvalid)
        {
            throw Failed(path, "open", Marshal.GetLastPInvokeError());
        }

        using var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while ((read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
            if (length > maxBytes)
            {
                throw new ContainersException($"the image's {path} is larger than {maxBytes} bytes");
            }
        }

        return buffer[..length];
    }

    /// <summary>
    /// Whether the image has a regular file at <paramref name="path"/> (absolute), or nothing: its directory is
    /// found following links inside the image, its last component is not followed (a link there is neither).
    /// </summary>
    /// <exception cref="ContainersException">Links loop, or a layer cannot be read.</exception>
    public bool IsFileOrMissing(string path)
    {
        var name = Path.GetFileName(path.TrimEnd('/'));
        if (Locate(Path.GetDirectoryName(path.TrimEnd('/')) ?? "/") is not { } parent)
        {
            return true;
        }

        if (!parent.Directory)
        {
            return false;
        }

        var relative = parent.Relative.Length == 0 ? name : parent.Relative + "/" + name;
        foreach (var layer in parent.Layers)
        {
            var entry = Inspect(layer, relative);
            if (entry.Kind != EntryKind.Missing)
            {
                return entry.Kind is EntryKind.File or EntryKind.Whiteout;
            }
        }

        return true;
    }

    /// <summary>
    /// Copies the directory at <paramref name="path"/> (links followed inside the image) into the empty host
    /// directory <paramref name="target"/>, as the container would see it: files, directories and symbolic links
    /// (copied as links, never followed) with their modes and, when <paramref name="keepOwners"/>, their owners.
    /// Whiteouts hide, devices, fifos and sockets are left out. Returns whether the image has a directory there.
    /// Without <paramref name="keepOwners"/>, <paramref name="foreign"/> (when given) receives the owners of entries a
    /// rootless store gave other owners under <paramref name="ranges"/>, as a container sees them, for
    /// <see cref="ForeignOwners.GiveAsync"/>: the copies are the caller's.
    /// </summary>
    public bool CopyDirectory(string path, string target, bool keepOwners, SubordinateIds? ranges = null, List<FileOwner>? foreign = null)
    {
        if (Locate(path) is not { Directory: true } found)
        {
            return false;
        }

        CopyEntries(found.Relative, found.Layers, target, keepOwners, new Foreign(target, ranges, foreign));
        return true;
    }

    /// <summary>Where <see cref="CopyEntries"/> leaves owners to give: none when <c>Owners</c> or <c>Ranges</c> is null.</summary>
    private sealed record Foreign(string Target, SubordinateIds? Ranges, List<FileOwner>? Owners)
    {
        private readonly uint _uid = LibC.geteuid();
        private readonly uint _gid = LibC.getegid();

        public void Add(string destination, Entry entry, bool link)
        {
            if (Owners is null || Ranges is not { } ranges
                || ranges.ContainerUid(entry.Uid, _uid) is not { } uid
                || ranges.ContainerGid(entry.Gid, _gid) is not { } gid
                || (uid == 0 && gid == 0))
            {
                return;
            }

            Owners.Add(new FileOwner(Path.GetRelativePath(Target, destination), uid, gid, FileOwner.ModeToRestore(entry.Mode, link)));
        }
    }

    private unsafe void CopyEntries(string relative, IReadOnlyList<int> layers, string target, bool keepOwners, Foreign foreign)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            foreach (var name in Names(layer, relative))
            {
                if (!seen.Add(name))
                {
                    continue;
                }

                var child = relative.Length == 0 ? name : relative + "/" + name;
                var below = new List<int>();
                Entry? top = null;
                foreach (var candidate in layers.SkipWhile(l => l != layer))
                {
                    var entry = Inspect(candidate, child);
                    if (entry.Kind == EntryKind.Missing)
                    {
                        continue;
                    }

                    top ??= entry;
                    if (entry.Kind != EntryKind.Directory || top.Value.Kind != EntryKind.Directory)
                    {
                        break;
                    }

                    below.Add(candidate);
                    if (entry.Opaque)
                    {
                        break;
                    }
                }

                var destination = Path.Combine(target, name);
                switch (top)
                {
                    case { Kind: EntryKind.Directory } directory:
                        Directory.CreateDirectory(destination);
                        CopyEntries(child, below, destination, keepOwners, foreign);
                        SetAttributes(destination, directory, keepOwners);
                        foreign.Add(destination, directory, link: false);
                        break;
                    case { Kind: EntryKind.File } file:
                        using (var root = OpenRoot(_layers[file.Layer]))
                        using (var source = Open(root, child, ORdOnly | OCloExec | ONoFollow))
                        {
                            if (source.IsInvalid)
                            {
                                throw Failed(child, "open", Marshal.GetLastPInvokeError());
                            }

                            using var input = new FileStream(source, FileAccess.Read, bufferSize: 0);
                            using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
                            input.CopyTo(output);
                        }

                        SetAttributes(destination, file, keepOwners);
                        foreign.Add(destination, file, link: false);
                        break;
                    case { Kind: EntryKind.SymbolicLink, Target: var linkTarget } link:
                        File.CreateSymbolicLink(destination, linkTarget!);
                        if (keepOwners)
                        {
                            fixed (byte* p = DirectoryTree.NulTerminated(destination))
                            {
                                Fchownat(new SafeFileHandle(AtFdCwd, ownsHandle: false), p, link.Uid, link.Gid, AtSymlinkNoFollow);
                            }
                        }

                        foreign.Add(destination, link, link: true);

                        break;
                }
            }
        }
    }

    private static void SetAttributes(string destination, Entry entry, bool keepOwners)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        if (keepOwners)
        {
            unsafe
            {
                fixed (byte* p = DirectoryTree.NulTerminated(destination))
                {
                    if (Fchownat(new SafeFileHandle(AtFdCwd, ownsHandle: false), p, entry.Uid, entry.Gid, AtSymlinkNoFollow) != 0)
                    {
                        throw Failed(destination, "chown", Marshal.GetLastPInvokeError());
                    }
                }
            }
        }

        // chown clears set-id bits: the mode goes on last.
        File.SetUnixFileMode(destination, (UnixFileMode)(entry.Mode & 0xfff));
    }

    private IEnumerable<string> Names(int layer, string relative)
    {
        var directory = relative.Length == 0 ? _layers[layer] : Path.Combine(_layers[layer], relative);
        return new DirectoryInfo(directory).EnumerateFileSystemInfos().Select(i => i.Name);
    }

    /// <summary>
    /// What <paramref name="path"/> resolves to: a regular file (the layer that has it) or a directory (the layers
    /// whose directories merge there, top first), with its path inside them; null when nothing (or something else) is there.
    /// </summary>
    private Found? Locate(string path)
    {
        var pending = new Stack<string>(Components(path).Reverse());
        var resolved = new List<string>();
        var visible = new List<List<int>> { Enumerable.Range(0, _layers.Count).ToList() };
        var links = 0;
        while (pending.TryPop(out var name))
        {
            if (name == "..")
            {
                // The resolved prefix holds only directories, so stepping back is lexical; at the root it stays.
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                    visible.RemoveAt(visible.Count - 1);
                }

                continue;
            }

            var relative = string.Join('/', resolved.Append(name));
            var below = new List<int>();
            Entry? top = null;
            foreach (var layer in visible[^1])
            {
                var entry = Inspect(layer, relative);
                if (entry.Kind == EntryKind.Missing)
                {
                    continue;
                }

                if (top is null)
                {
                    top = entry;
                    if (entry.Kind != EntryKind.Directory)
                    {
                        break;
                    }
                }
                else if (entry.Kind != EntryKind.Directory)
                {
                    break; // a non-directory below a directory ends the merge
                }

                below.Add(layer);
                if (entry.Opaque)
                {
                    break;
                }
            }

            switch (top)
            {
                case null or { Kind: EntryKind.Whiteout }:
                    return null;
                case { Kind: EntryKind.Directory }:
                    resolved.Add(name);
                    visible.Add(below);
                    break;
                case { Kind: EntryKind.SymbolicLink, Target: var target }:
                    if (++links > MaxLinks)
                    {
                        throw new ContainersException($"the image's {path}: too many levels of symbolic links");
                    }

                    if (target!.StartsWith('/'))
                    {
                        resolved.Clear();
                        visible.RemoveRange(1, visible.Count - 1);
                    }

                    foreach (var part in Components(target).Reverse())
                    {
                        pending.Push(part);
                    }

                    break;
                case { Kind: EntryKind.File }:
                    return pending.Count == 0 ? new Found(false, relative, [top.Value.Layer]) : null;
                default:
                    // A device, fifo or socket cannot hold a file's contents, nor be passed through.
                    return pending.Count == 0 ? throw new ContainersException($"the image's {path} is not a regular file") : null;
            }
        }

        return new Found(true, string.Join('/', resolved), visible[^1]);
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".");

    private unsafe Entry Inspect(int layer, string relative)
    {
        using var root = OpenRoot(_layers[layer]);
        using var entry = Open(root, relative, OPath | ONoFollow | OCloExec);
        if (entry.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR ? new Entry(layer, EntryKind.Missing) : throw Failed(relative, "look up", errno);
        }

        StatxBuffer stat;
        int result;
        fixed (byte* empty = "\0"u8)
        {
            result = Statx(entry, empty, AtEmptyPath | AtSymlinkNoFollow, StatxType | StatxMode | StatxOwners, &stat);
        }

        if (result != 0)
        {
            throw Failed(relative, "stat", Marshal.GetLastPInvokeError());
        }

        var found = (stat.Mode & SIfMt) switch
        {
            SIfDir => new Entry(layer, EntryKind.Directory, Opaque: IsOpaque(root, relative)),
            0xA000 => new Entry(layer, EntryKind.SymbolicLink, Target: ReadLink(entry, relative)),
            0x8000 => new Entry(layer, EntryKind.File),
            SIfChr when stat.RdevMajor == 0 && stat.RdevMinor == 0 => new Entry(layer, EntryKind.Whiteout),
            _ => new Entry(layer, EntryKind.Other),
        };
        return found with { Mode = stat.Mode, Uid = stat.Uid, Gid = stat.Gid };
    }

    private unsafe bool IsOpaque(SafeFileHandle root, string relative)
    {
        using var directory = Open(root, relative, ORdOnly | ODirectory | ONoFollow | OCloExec);
        if (directory.IsInvalid)
        {
            throw Failed(relative, "open directory", Marshal.GetLastPInvokeError());
        }

        byte value;
        fixed (byte* name = _opaqueXattr)
        {
            return Fgetxattr(directory, name, &value, 1) == 1 && value == (byte)'y';
        }
    }

    private static unsafe string ReadLink(SafeFileHandle link, string relative)
    {
        var buffer = new byte[4096];
        nint length;
        fixed (byte* empty = "\0"u8, b = buffer)
        {
            length = Readlinkat(link, empty, b, (nuint)buffer.Length);
        }

        return length < 0
            ? throw Failed(relative, "read link", Marshal.GetLastPInvokeError())
            : Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    private static SafeFileHandle OpenRoot(string layer)
    {
        var root = DirectoryTree.OpenDirectory(layer);
        return root.IsInvalid ? throw Failed(layer, "open layer", Marshal.GetLastPInvokeError()) : root;
    }

    private static unsafe SafeFileHandle Open(SafeFileHandle root, string relative, int flags)
    {
        fixed (byte* p = DirectoryTree.NulTerminated(relative))
        {
            return Openat2(root, p, flags, ResolveBeneath | ResolveNoSymlinks);
        }
    }

    private static ContainersException Failed(string path, string operation, int errno) =>
        new($"reading the image's files: {operation} '{path}' failed: {Errno.Name(errno)}");

    private enum EntryKind
    {
        Missing,
        Directory,
        File,
        SymbolicLink,
        Whiteout,
        Other,
    }

    private readonly record struct Entry(int Layer, EntryKind Kind, bool Opaque = false, string? Target = null, uint Mode = 0, uint Uid = 0, uint Gid = 0);

    private sealed record Found(bool Directory, string Relative, IReadOnlyList<int> Layers);
}
