using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Commit;

/// <summary>
/// Answers "does this path exist in the image?" from its snapshots (overlay lower directories, top first) the way
/// overlayfs merges them: a whiteout hides the path in every layer below, an opaque directory hides everything
/// below it in lower layers, and a non-directory hides whatever lower layers hold beneath its name. Without root, a
/// path below a directory the layer gave another owner under the caller's subordinate ids (a 0700 home), which the
/// caller may not search, is looked up in the image as a user namespace with those ids sees it
/// (<see cref="UserNamespaceOpener.ForLayers"/>).
/// </summary>
internal sealed unsafe class LowerLayers
{
    private static readonly SafeFileHandle Cwd = new(AtFdCwd, ownsHandle: false);
    private static readonly byte[][] OpaqueXattrs = [DirectoryTree.NulTerminated("trusted.overlay.opaque"), DirectoryTree.NulTerminated("user.overlay.opaque")];

    private readonly IReadOnlyList<string> _topFirst;
    private readonly CancellationToken _cancellationToken;
    private UserNamespaceOpener? _opener;

    /// <param name="topFirst">The image's snapshots, top first.</param>
    /// <param name="cancellationToken">Cancels a lookup in a user namespace.</param>
    public LowerLayers(IReadOnlyList<string> topFirst, CancellationToken cancellationToken = default)
    {
        _topFirst = topFirst;
        _cancellationToken = cancellationToken;
    }

    private enum Lookup
    {
        Found,
        NotHere,
        Hidden,
        Denied,
    }

    /// <summary>Whether <paramref name="path"/> (relative, '/'-separated) is visible in the merged image.</summary>
    public bool Contains(ReadOnlySpan<byte> path)
    {
        foreach (var layer in _topFirst)
        {
            switch (Find(layer, path))
            {
                case Lookup.Found:
                    return true;
                case Lookup.Hidden:
                    return false;
                case Lookup.Denied:
                    return ContainsForeign(path);
            }
        }

        return false;
    }

    /// <summary>The names visible in the merged image inside the directory <paramref name="path"/>.</summary>
    public IEnumerable<string> ListNames(string path)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var layer in _topFirst)
        {
            string directory = Path.Combine(layer, path);
            using var dir = DirectoryTree.OpenDirectory(directory);
            int errno = dir.IsInvalid ? Marshal.GetLastPInvokeError() : 0;
            var listed = new List<byte[]>();
            if (errno == 0)
            {
                errno = DirectoryTree.ListNames(dir, listed);
            }

            if (errno == Errno.EACCES && SubordinateIds.Current is not null)
            {
                return ListForeignNames(path);
            }

            if (errno is not (0 or Errno.ENOENT or Errno.ENOTDIR))
            {
                throw new ImageCommitException($"cannot list /{path} in the snapshot {layer}: {Errno.Name(errno)}");
            }

            names.UnionWith(listed.Select(n => Encoding.UTF8.GetString(n)));
        }

        return names.Where(n => Contains(Encoding.UTF8.GetBytes(path + "/" + n)));
    }

    /// <summary><see cref="Contains"/> for a path the caller may not look up.</summary>
    private bool ContainsForeign(ReadOnlySpan<byte> path)
    {
        using var fd = OpenForeign(path);
        return fd is not null;
    }

    /// <summary><see cref="ListNames"/> of a directory the caller may not read: listed in the image's merged view, which shows only visible names.</summary>
    private List<string> ListForeignNames(string path)
    {
        using var dir = OpenForeign(Encoding.UTF8.GetBytes(path));
        var names = new List<byte[]>();
        if (dir is null || TypeOf(dir) != SIfDir)
        {
            return [];
        }

        int errno = DirectoryTree.ListNames(dir, names);
        if (errno != 0)
        {
            throw new ImageCommitException($"cannot list /{path} in the image's layers: {Errno.Name(errno)}");
        }

        return [.. names.Select(n => Encoding.UTF8.GetString(n)).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Opens <paramref name="path"/> in the image's merged view from one child, or null when it is not visible there:
    /// every directory on the way and the path itself are opened without following their last component, so a link or
    /// a non-directory on the way hides the path as it does in <see cref="Find"/> (the view has no whiteouts: overlay
    /// hides what they hide).
    /// </summary>
    private SafeFileHandle? OpenForeign(ReadOnlySpan<byte> path)
    {
        var prefixes = new List<byte[]>();
        for (int i = 0; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] == '/')
            {
                prefixes.Add(path[..i].ToArray());
            }
        }

        var fds = Opener.OpenOrMissing(prefixes, _cancellationToken);
        try
        {
            for (int i = 0; i < fds.Length - 1; i++)
            {
                if (fds[i] is not { } fd || TypeOf(fd) != SIfDir)
                {
                    return null;
                }
            }

            var found = fds[^1];
            fds[^1] = null;
            return found;
        }
        finally
        {
            Array.ForEach(fds, f => f?.Dispose());
        }
    }

    private UserNamespaceOpener Opener => _opener ??= UserNamespaceOpener.ForLayers(_topFirst, SubordinateIds.Current!);

    private static uint TypeOf(SafeFileHandle fd)
    {
        byte empty = 0;
        StatxBuffer stat;
        if (Statx(fd, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) != 0)
        {
            throw new ImageCommitException($"cannot stat an entry of the image's layers: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        return stat.Mode & SIfMt;
    }

    private static Lookup Find(string layer, ReadOnlySpan<byte> path)
    {
        byte[] full = [.. Encoding.UTF8.GetBytes(layer), (byte)'/', .. path, 0];
        int start = Encoding.UTF8.GetByteCount(layer) + 1;
        bool belowOpaque = false;
        for (int i = start; i < full.Length; i++)
        {
            if (full[i] != '/' && full[i] != 0)
            {
                continue;
            }

            bool last = full[i] == 0;
            full[i] = 0;
            StatxBuffer stat;
            int result;
            fixed (byte* p = full)
            {
                result = Statx(Cwd, p, AtSymlinkNoFollow, StatxBuffer.BasicStats, &stat);
            }

            if (result != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EACCES && SubordinateIds.Current is not null)
                {
                    return Lookup.Denied;
                }

                if (errno is not (Errno.ENOENT or Errno.ENOTDIR))
                {
                    throw new ImageCommitException($"cannot look up /{Encoding.UTF8.GetString(path)} in the snapshot {layer}: {Errno.Name(errno)}");
                }

                return belowOpaque ? Lookup.Hidden : Lookup.NotHere;
            }

            uint type = stat.Mode & SIfMt;
            if (type == SIfChr && stat.RdevMajor == 0 && stat.RdevMinor == 0)
            {
                return Lookup.Hidden;
            }

            if (last)
            {
                return Lookup.Found;
            }

            if (type != SIfDir)
            {
                return Lookup.Hidden;
            }

            switch (IsOpaque(full))
            {
                case null:
                    return Lookup.Denied;
                case true:
                    belowOpaque = true;
                    break;
            }

            full[i] = (byte)'/';
        }

        return Lookup.Found;
    }

    /// <summary>Whether the directory is opaque; null when the caller may not read its xattrs and the ranges could (a directory of another owner).</summary>
    private static bool? IsOpaque(byte[] nulTerminatedPath)
    {
        byte value = 0;
        foreach (var name in OpaqueXattrs)
        {
            fixed (byte* p = nulTerminatedPath)
            fixed (byte* n = name)
            {
                var length = Lgetxattr(p, n, &value, 1);
                if (length == 1 && value == (byte)'y')
                {
                    return true;
                }

                if (length < 0 && Marshal.GetLastPInvokeError() == Errno.EACCES && SubordinateIds.Current is not null)
                {
                    return null;
                }
            }
        }

        return false;
    }
}
