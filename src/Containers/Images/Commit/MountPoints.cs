using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Commit;

/// <summary>
/// Finds what a container's runtime, not its program, put in the upper directory: the empty directories (and empty
/// files, for file binds) it created as mount points, and their parents when nothing else of the container's changed
/// inside them. Docker keeps these in an init layer below the container's; here they are left out of a commit and a
/// diff instead, so a container that only ran shows no changes.
/// </summary>
internal static unsafe class MountPoints
{
    private const int ONonBlock = 0x800;
    private const ulong Resolve = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks;

    /// <summary>
    /// The paths (<c>/run/secrets</c>) of <paramref name="upperDirectory"/> to leave out, given the mount
    /// destinations of the container and the files the runtime wrote into it (<paramref name="written"/>:
    /// <c>/etc/hosts</c>). A path is left out only when it is one of those or a parent of one, reached without
    /// symbolic links, and is a directory (not opaque) with every entry inside it left out too, an empty regular file
    /// at a mount destination, or a regular file the runtime wrote (whatever it holds now).
    /// </summary>
    public static IReadOnlySet<string> Find(string upperDirectory, IEnumerable<string> destinations, IEnumerable<string>? written = null)
    {
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (destination, isWritten) in destinations.Select(d => (d, false)).Concat((written ?? []).Select(w => (w, true))))
        {
            var parts = destination.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
            {
                continue;
            }

            (isWritten ? files : targets).Add("/" + string.Join('/', parts));
            for (var i = 1; i <= parts.Length; i++)
            {
                candidates.Add("/" + string.Join('/', parts[..i]));
            }
        }

        var excluded = new HashSet<string>(StringComparer.Ordinal);
        using var root = DirectoryTree.OpenDirectory(upperDirectory);
        if (root.IsInvalid)
        {
            return excluded;
        }

        // Deepest first, so a parent is judged after its children.
        foreach (var path in candidates.OrderByDescending(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal))
        {
            if (IsOnlyMountPoint(root, path, targets.Contains(path), files.Contains(path), excluded))
            {
                excluded.Add(path);
            }
        }

        return excluded;
    }

    /// <summary>
    /// The bytes of the files the runtime wrote (<paramref name="paths"/>: <c>/etc/hosts</c>) in
    /// <paramref name="upperDirectory"/>: each regular file there reached without links, which is what
    /// <see cref="Find"/> leaves out of a commit for them, and what a disk usage leaves out too. A file with another
    /// hard link is counted where that link is, so it stays.
    /// </summary>
    public static long Bytes(string upperDirectory, IEnumerable<string> paths)
    {
        using var root = DirectoryTree.OpenDirectory(upperDirectory);
        if (root.IsInvalid)
        {
            return 0;
        }

        long bytes = 0;
        foreach (var path in paths)
        {
            using var file = Open(root, path.TrimStart('/'), OPath | ONoFollow | OCloExec);
            StatxBuffer stat;
            byte empty = 0;
            if (!file.IsInvalid && Statx(file, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) == 0 && (stat.Mode & SIfMt) == SIfReg && stat.Nlink == 1)
            {
                bytes += (long)stat.Size;
            }
        }

        return bytes;
    }

    private static bool IsOnlyMountPoint(SafeFileHandle root, string path, bool target, bool written, HashSet<string> excluded)
    {
        using var file = Open(root, path[1..], OPath | ONoFollow | OCloExec);
        if (file.IsInvalid)
        {
            return false;
        }

        StatxBuffer stat;
        byte empty = 0;
        if (Statx(file, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) != 0)
        {
            return false;
        }

        var type = stat.Mode & SIfMt;
        if (type == SIfReg)
        {
            return written || (target && stat.Size == 0);
        }

        if (type != SIfDir)
        {
            return false;
        }

        using var directory = Open(root, path[1..], ORdOnly | ODirectory | ONonBlock | OCloExec);
        if (directory.IsInvalid || IsOpaque(directory))
        {
            return false;
        }

        var fd = directory.DangerousGetHandle().ToInt32();
        foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{fd}"))
        {
            if (!excluded.Contains(path + "/" + Path.GetFileName(entry)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsOpaque(SafeFileHandle directory)
    {
        byte value = 0;
        fixed (byte* trusted = "trusted.overlay.opaque\0"u8, user = "user.overlay.opaque\0"u8)
        {
            return Fgetxattr(directory, trusted, &value, 1) > 0 || Fgetxattr(directory, user, &value, 1) > 0;
        }
    }

    private static SafeFileHandle Open(SafeFileHandle root, string relative, int flags)
    {
        fixed (byte* p = DirectoryTree.NulTerminated(relative))
        {
            return Openat2(root, p, flags, Resolve);
        }
    }
}
