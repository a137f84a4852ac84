using System.Globalization;

namespace Containers.Cgroups.V2;

/// <summary>
/// The no-internal-processes rule of cgroup v2: a cgroup other than the root that holds processes cannot enable
/// controllers for its children. A process started in such a cgroup (a systemd scope or a service with
/// <c>Delegate=yes</c>, a container's cgroup namespace) does what systemd asks of a delegated service: it moves itself
/// into a leaf below its cgroup, <c>containers-host</c>, and manages its cgroup's other children. The move stays inside
/// the subtree the process started in.
/// </summary>
internal static class V2Leaf
{
    /// <summary>The leaf's name: a default parent is computed from the cgroup above it.</summary>
    public const string Name = "containers-host";

    /// <summary>The cgroup this process started in: its own, or the one above the leaf it moved into.</summary>
    public static string OwnBase(string own) =>
        own.EndsWith("/" + Name, StringComparison.Ordinal) ? own[..^(Name.Length + 1)] is { Length: > 0 } above ? above : "/" : own;

    /// <summary>
    /// Moves this process, then each of its descendants still in <paramref name="dir"/>, into the leaf below it.
    /// False (nothing of another process moved) when <paramref name="dir"/> is not this process's cgroup or holds a
    /// process that is neither this one nor a descendant: that cgroup is not this process's to rearrange.
    /// </summary>
    public static bool MoveOwnProcesses(string dir)
    {
        var procs = CgroupFile.ReadProcs(dir);
        var self = Environment.ProcessId;
        if (!procs.Contains(self) || procs.Any(pid => pid != self && !IsDescendant(pid, self)))
        {
            return false;
        }

        var leaf = Path.Combine(dir, Name);
        try
        {
            Directory.CreateDirectory(leaf);
            // Children forked after this write are born in the leaf; those forked before are moved one by one.
            File.WriteAllText(Path.Combine(leaf, "cgroup.procs"), self.ToString(CultureInfo.InvariantCulture));
            for (var round = 0; round < 10; round++)
            {
                var left = CgroupFile.ReadProcs(dir);
                if (left.Count == 0)
                {
                    return true;
                }

                foreach (var pid in left.Where(pid => IsDescendant(pid, self)))
                {
                    try
                    {
                        File.WriteAllText(Path.Combine(leaf, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                    }
                    catch (IOException)
                    {
                        // It exited meanwhile (ESRCH).
                    }
                }
            }

            return CgroupFile.ReadProcs(dir).Count == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsDescendant(int pid, int ancestor)
    {
        for (var depth = 0; depth < 64 && pid > 1; depth++)
        {
            var parent = ParentOf(pid);
            if (parent == ancestor)
            {
                return true;
            }

            pid = parent;
        }

        return false;
    }

    private static int ParentOf(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }
}
