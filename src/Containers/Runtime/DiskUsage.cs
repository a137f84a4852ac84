using Containers.Linux;

namespace Containers.Runtime;

/// <summary>
/// The bytes a directory tree holds, counted as Docker counts a layer's size: the size of everything but
/// directories (a symlink's is the length of its target), a file with several hard links once (busybox's applets are
/// one file linked hundreds of times); nothing is followed out of the tree.
/// </summary>
internal static class DiskUsage
{
    private const uint FileTypeMask = 0xf000; // S_IFMT
    private const uint DirectoryType = 0x4000; // S_IFDIR

    /// <exception cref="IOException">An entry cannot be inspected (the errno's name says why).</exception>
    /// <exception cref="UnauthorizedAccessException">A directory cannot be read.</exception>
    public static long Of(string root, CancellationToken cancellationToken)
    {
        var linked = new HashSet<(ulong Device, ulong Inode)>();
        var pending = new Stack<string>();
        pending.Push(root);
        long total = 0;
        while (pending.TryPop(out var directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<string> entries;
            try
            {
                entries = [.. Directory.EnumerateFileSystemEntries(directory)];
            }
            catch (DirectoryNotFoundException)
            {
                // A running container removed it meanwhile.
                continue;
            }

            foreach (var entry in entries)
            {
                // Null: a running container removed it meanwhile.
                if (LibC.FileUsage(entry) is not { } usage)
                {
                    continue;
                }

                if ((usage.Mode & FileTypeMask) == DirectoryType)
                {
                    pending.Push(entry);
                }
                else if (usage.Size > 0 && (usage.Links == 1 || linked.Add((usage.Device, usage.Inode))))
                {
                    total += usage.Size;
                }
            }
        }

        return total;
    }
}
