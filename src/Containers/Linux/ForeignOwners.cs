using System.Text;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Linux;

/// <summary>
/// Files of a folder the caller owns that belong, under the caller's subordinate ids, to other users: a rootless
/// image's layers (<see cref="GiveAsync"/>) and what a rootless container's users made. The caller may neither list a
/// foreign directory of mode 0700 nor unlink the entries of any foreign directory, and cannot chown its own files to
/// those ids; a child in a new user namespace that maps the caller to 0 and the caller's subordinate ranges after it
/// (the mapping of <c>UserNamespaceMapping.Rootless</c>, so ids read the same in every rootless container) can.
/// </summary>
internal static class ForeignOwners
{
    /// <summary>Entries one child handles; a plan holds one op per entry.</summary>
    private const int Batch = 4096;

    /// <summary>Levels of foreign directories nested in foreign directories a removal gives back before it gives up.</summary>
    private const int MaxForeignLevels = 64;

    /// <summary>
    /// Gives each entry of <paramref name="owners"/> (relative to <paramref name="folder"/>, which the caller owns)
    /// its owner as the container sees it: id 0 is the caller, id N the Nth id of <paramref name="subordinate"/>, the
    /// caller's ranges (<see cref="SubordinateIds.Current"/>). Links are not followed; a given mode is set again after
    /// the chown, which clears setuid and setgid bits.
    /// </summary>
    /// <exception cref="ContainersIOException">The user namespace cannot be made, or an entry cannot be given its owner (named).</exception>
    public static async Task GiveAsync(string folder, IReadOnlyCollection<FileOwner> owners, SubordinateIds subordinate, CancellationToken cancellationToken)
    {
        foreach (var batch in owners.Chunk(Batch))
        {
            var builder = new PlanBuilder(CloneFlags.NewUser)
                .WaitForParent("wait for the user namespace's maps")
                .Root(folder, $"open {folder}");
            foreach (var owner in batch)
            {
                builder.Chown(owner.Path, owner.Uid, owner.Gid, owner.Path, owner.Mode);
            }

            await RunAsync(ChildProcess.Launch(builder.Build()), subordinate, "give '{0}' its owner", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes <paramref name="path"/> and everything in it (<see cref="DirectoryTree.Remove(string)"/>); without
    /// root, directories owned under subordinate ids are given back to the caller first (<see cref="GiveBack"/>),
    /// level by level as the removal meets them. Returns 0 or the errno of what could not be removed.
    /// </summary>
    public static int Remove(string path)
    {
        var errno = DirectoryTree.Remove(path);
        for (var level = 0; errno is Errno.EACCES or Errno.EPERM && level < MaxForeignLevels && !Environment.IsPrivilegedProcess; level++)
        {
            if (GiveBack(path, CancellationToken.None) == 0)
            {
                break;
            }

            errno = DirectoryTree.Remove(path);
        }

        return errno;
    }

    /// <summary>
    /// Gives the caller the foreign directories it can see below <paramref name="folder"/> (one it owns); returns
    /// how many, 0 when there are none or the caller has no subordinate ranges (nothing can own them but it).
    /// Foreign directories inside a foreign 0700 one are found once it is given back: one round per level of such
    /// nesting.
    /// </summary>
    /// <exception cref="ContainersException">The user namespace cannot be made, or a directory cannot be given back (named).</exception>
    public static int GiveBack(string folder, CancellationToken cancellationToken)
    {
        if (SubordinateIds.Current is not { } subordinate)
        {
            return 0;
        }

        var foreign = new List<string>();
        using (var root = DirectoryTree.OpenDirectory(folder))
        {
            if (root.IsInvalid)
            {
                return 0;
            }

            Collect(root, "", LibC.geteuid(), foreign);
        }

        foreach (var batch in foreign.Chunk(Batch))
        {
            var builder = new PlanBuilder(CloneFlags.NewUser)
                .WaitForParent("wait for the user namespace's maps")
                .Root(folder, $"open {folder}");
            foreach (var path in batch)
            {
                builder.Chown(path, 0, 0, Path.Combine(folder, path));
            }

            RunAsync(ChildProcess.Launch(builder.Build()), subordinate, "give {0} back to this user", cancellationToken).GetAwaiter().GetResult();
        }

        return foreign.Count;
    }

    private static async Task RunAsync(ChildProcess child, SubordinateIds subordinate, string what, CancellationToken cancellationToken)
    {
        await using (child.ConfigureAwait(false))
        {
            await UserNamespaceMaps.WriteAsync(child.Pid, subordinate.UidMap(LibC.geteuid()), subordinate.GidMap(LibC.getegid()), cancellationToken).ConfigureAwait(false);
            child.Continue();
            try
            {
                await child.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ContainerStartException e)
            {
                throw new ContainersIOException(
                    $"cannot {string.Format(System.Globalization.CultureInfo.InvariantCulture, what, e.Stage)} in a user namespace with this user's subordinate ids: {e.ErrnoName}", e.Stage, e);
            }

            await child.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds the directories below <paramref name="dir"/> that <paramref name="uid"/> does not own, looking into every one the caller may open.</summary>
    private static unsafe void Collect(SafeFileHandle dir, string prefix, uint uid, List<string> foreign)
    {
        var names = new List<byte[]>();
        if (DirectoryTree.ListNames(dir, names) != 0)
        {
            return;
        }

        foreach (var name in names)
        {
            byte[] z = [.. name, 0];
            StatxBuffer stat;
            fixed (byte* p = z)
            {
                if (Statx(dir, p, AtSymlinkNoFollow, StatxBuffer.BasicStats, &stat) != 0 || (stat.Mode & SIfMt) != SIfDir)
                {
                    continue;
                }
            }

            var path = prefix + Encoding.UTF8.GetString(name);
            if (stat.Uid != uid)
            {
                foreign.Add(path);
            }

            SafeFileHandle child;
            fixed (byte* p = z)
            {
                child = Openat(dir, p, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
            }

            using (child)
            {
                if (!child.IsInvalid)
                {
                    Collect(child, path + "/", uid, foreign);
                }
            }
        }
    }
}
