using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Commit;

/// <summary>
/// Answers "does this path exist in the image?" from its snapshots (overlay lower directories, top first) the way
/// overlayfs merges them: a whiteout hides the path in every layer below, an opaque directory hides everything
/// below it in lower layers, and a non-directory hides whatever lower layers hold beneath its name.
/// </summary>
internal sealed unsafe class LowerLayers
{
    private static readonly SafeFileHandle Cwd = new(AtFdCwd, ownsHandle: false);
    private static readonly byte[][] OpaqueXattrs = [DirectoryTree.NulTerminated("trusted.overlay.opaque"), DirectoryTree.NulTerminated("user.overlay.opaque")];

    private readonly IReadOnlyList<string> _topFirst;

    public LowerLayers(IReadOnlyList<string> topFirst) => _topFirst = topFirst;

    private enum Lookup
    {
        Found,
        NotHere,
        Hidden,
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
            if (Directory.Exists(directory))
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
                {
                    names.Add(Path.GetFileName(entry));
                }
            }
        }

        return names.Where(n => Contains(Encoding.UTF8.GetBytes(path + "/" + n)));
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

            belowOpaque |= IsOpaque(full);
            full[i] = (byte)'/';
        }

        return Lookup.Found;
    }

    private static bool IsOpaque(byte[] nulTerminatedPath)
    {
        byte value = 0;
        foreach (var name in OpaqueXattrs)
        {
            fixed (byte* p = nulTerminatedPath)
            fixed (byte* n = name)
            {
                if (Lgetxattr(p, n, &value, 1) == 1 && value == (byte)'y')
                {
                    return true;
                }
            }
        }

        return false;
    }
}
