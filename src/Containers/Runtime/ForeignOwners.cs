using System.Text;
using Containers.Linux;
using Containers.Runtime.Plan;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// Gives back to the caller the directories of a folder that a rootless container's users own under subordinate
/// ids, so that the caller can remove the folder: it may neither list a foreign directory of mode 0700 nor unlink
/// the entries of any foreign directory. A child in a new user namespace that maps the caller to 0 and the caller's
/// subordinate ranges after it (every id any of its containers can have) gives each such directory to 0:0, the
/// caller, without following a link. Foreign directories inside a foreign 0700 one are found once it is given back:
/// one round per level of such nesting.
/// </summary>
internal static class ForeignOwners
{
    /// <summary>Entries one child handles; a plan holds one op per entry.</summary>
    private const int Batch = 512;

    /// <summary>
    /// Gives the caller the foreign directories it can see below <paramref name="folder"/> (one it owns); returns
    /// how many, 0 when there are none or the caller has no subordinate ranges (nothing can own them but it).
    /// </summary>
    /// <exception cref="ContainersException">The user namespace cannot be made, or a directory cannot be given back (named).</exception>
    public static int GiveBack(string folder, CancellationToken cancellationToken)
    {
        if (HostView.Current.SubordinateIds is not { } subordinate)
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

        uint uid = LibC.geteuid(), gid = LibC.getegid();
        IdMapRange[] uids = [new(0, uid, 1), new(1, subordinate.UidStart, subordinate.UidCount)];
        IdMapRange[] gids = [new(0, gid, 1), new(1, subordinate.GidStart, subordinate.GidCount)];
        foreach (var batch in foreign.Chunk(Batch))
        {
            var builder = new PlanBuilder(CloneFlags.NewUser)
                .WaitForParent("wait for the user namespace's maps")
                .Root(folder, $"open {folder}");
            foreach (var path in batch)
            {
                builder.Chown(path, 0, 0, Path.Combine(folder, path));
            }

            RunAsync(ChildProcess.Launch(builder.Build()), uids, gids, cancellationToken).GetAwaiter().GetResult();
        }

        return foreign.Count;
    }

    private static async Task RunAsync(ChildProcess child, IdMapRange[] uids, IdMapRange[] gids, CancellationToken cancellationToken)
    {
        await using (child.ConfigureAwait(false))
        {
            await UserNamespaceMaps.WriteAsync(child.Pid, uids, gids, cancellationToken).ConfigureAwait(false);
            child.Continue();
            try
            {
                await child.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ContainerStartException e)
            {
                throw new ContainersIOException(
                    $"cannot give {e.Stage} back to this user in a user namespace with its subordinate ids: {e.ErrnoName} (remove it as root)", e.Stage, e);
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
