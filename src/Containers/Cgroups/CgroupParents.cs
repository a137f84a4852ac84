namespace Containers.Cgroups;

/// <summary>
/// The parents containers' cgroups go in: listing their children, and sweeping the empty default parents that
/// runtimes left below this process's cgroup (<see cref="CgroupDriver.ParentPrefix"/> and a hash of a state directory).
/// </summary>
internal static class CgroupParents
{
    /// <summary>
    /// How long an empty parent is left alone by <see cref="RemoveEmptySiblings"/>: a runtime may be between making it
    /// and making its first container in it.
    /// </summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Removes the empty default parents below this process's cgroup, this runtime's own included, that are older than
    /// <see cref="MinimumAge"/>: a runtime removes its parent only when disposed, and a process that never
    /// disposes its runtime (most command-line commands) would otherwise leave it behind for good. A runtime that
    /// still uses a parent swept meanwhile makes it again: its mkdir of a container's cgroup fails with ENOENT
    /// (<see cref="V1.V1Driver"/>, <see cref="V2.V2Driver"/>).
    /// </summary>
    public static void RemoveEmptySiblings(string parent)
    {
        var dir = Path.GetDirectoryName(parent);
        if (dir is null || !Directory.Exists(dir))
        {
            return;
        }

        foreach (var sibling in Directory.EnumerateDirectories(dir, CgroupDriver.ParentPrefix + "*"))
        {
            try
            {
                // cgroupfs has no birth time, and a cgroup directory's mtime is when it was made (children made in it
                // later do not move it): an old parent may be in use, which its children show.
                if (Directory.GetLastWriteTimeUtc(sibling) < DateTime.UtcNow - MinimumAge
                    && !Directory.EnumerateDirectories(sibling).Any() && CgroupFile.ReadProcs(sibling).Count == 0)
                {
                    Directory.Delete(sibling);
                }
            }
            catch (IOException)
            {
                // EBUSY or ENOTEMPTY: a runtime made a container's cgroup in it meanwhile, so it is in use. Or another
                // runtime's open swept it first.
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's (a delegated cgroup v2 subtree may hold root's runtimes' parents too).
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> says a cgroup went away while it was being set up (a parent swept meanwhile):
    /// ENOENT on a path below it, or ENODEV from a file of it opened before the rmdir.
    /// </summary>
    public static bool IsGone(Exception e) => e switch
    {
        DirectoryNotFoundException => true,
        IOException { HResult: ENODEV } => true,
        _ => e.InnerException is { } inner && IsGone(inner),
    };

    private const int ENODEV = 19;

    /// <summary>The cgroups below <paramref name="parent"/>; none once another runtime's open has swept it.</summary>
    public static List<string> Children(string parent)
    {
        // A parent not made yet (no container of this state directory since boot, or swept) is the common case of a
        // listing: asked first, so it throws nothing. In the native binary a thrown exception's stack walk was
        // 2.5 % of a `containers ps`. The catch stays for a parent swept between the two.
        if (!Directory.Exists(parent))
        {
            return [];
        }

        try
        {
            return [.. Directory.EnumerateDirectories(parent)];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }
}
