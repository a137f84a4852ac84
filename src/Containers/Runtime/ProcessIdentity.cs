using System.Globalization;

namespace Containers.Runtime;

/// <summary>
/// A process named by its pid and its start time (<c>/proc/PID/stat</c> field 22): a pid alone can be reused by an
/// unrelated process after the original exits; the pair cannot.
/// </summary>
internal readonly record struct ProcessIdentity(int Pid, ulong StartTime)
{
    /// <summary>The calling process.</summary>
    public static ProcessIdentity Current { get; } = Of(Environment.ProcessId)
        ?? throw new InvalidOperationException("/proc is not mounted: the runtime needs /proc/self/stat");

    /// <summary>
    /// The pid namespace this process is in: the inode in <c>/proc/self/ns/pid</c>'s link (<c>pid:[INODE]</c>), or 0
    /// when it cannot be read. Pids, and the processes <c>/proc</c> shows, are those of this namespace.
    /// </summary>
    public static ulong CurrentPidNamespace { get; } = ReadPidNamespace();

    /// <summary>
    /// Whether this process sees the pids of a process in pid namespace <paramref name="pidNamespace"/> (an inode as
    /// <see cref="CurrentPidNamespace"/> reads it; 0 when not recorded, as in states written before it was): only when
    /// that is its own. A pid is a number in one namespace: in another one the same number names another process, or
    /// none, and <c>/proc</c>, <c>kill</c> and <c>pidfd_open</c> all take it in the caller's. So whether such a process
    /// lives, and signalling or joining it, is for a process in its namespace; from here a live one would look dead.
    /// </summary>
    public static bool SeesPidsOf(ulong pidNamespace) => pidNamespace == 0 || pidNamespace == CurrentPidNamespace;

    /// <summary>The identity of a live process, or null when no process has that pid.</summary>
    public static ProcessIdentity? Of(int pid)
    {
        var startTime = ReadStartTime(pid);
        return startTime is null ? null : new ProcessIdentity(pid, startTime.Value);
    }

    /// <summary>Whether this very process (not a later one with the same pid) still exists, including as a zombie.</summary>
    public bool IsAlive => Pid > 0 && ReadStartTime(Pid) == StartTime;

    private static ulong ReadPidNamespace()
    {
        try
        {
            var link = new FileInfo("/proc/self/ns/pid").LinkTarget;
            return link is not null && link.StartsWith("pid:[", StringComparison.Ordinal) && link.EndsWith(']')
                && ulong.TryParse(link.AsSpan(5, link.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
                ? inode
                : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static ulong? ReadStartTime(int pid)
    {
        // Read without exceptions for the common answer "gone": every command asks this of every container's owner
        // and process, and a thrown exception costs a native binary more than the read.
        string? stat;
        try
        {
            stat = Linux.LibC.TryReadText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
        }
        catch (IOException)
        {
            // ESRCH from a process that exits while its stat is read.
            return null;
        }

        if (stat is null)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may itself contain spaces and ')': fields after it are
        // counted from the last ')'. Field 3 (state) is the first after it, so starttime (22) is the 20th.
        var rest = stat.AsSpan(stat.LastIndexOf(')') + 2);
        if (rest.StartsWith('Z'))
        {
            // A zombie runs nothing: its container is dead, even while no one has reaped it yet.
            return null;
        }

        for (var field = 3; field < 22; field++)
        {
            rest = rest[(rest.IndexOf(' ') + 1)..];
        }

        var end = rest.IndexOf(' ');
        return ulong.Parse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
