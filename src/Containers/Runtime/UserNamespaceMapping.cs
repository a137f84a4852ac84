using System.Diagnostics;
using System.Globalization;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// The uid and gid maps of a new user namespace, and how to write them: directly into <c>/proc/PID/uid_map</c>
/// (root, or a single mapping of oneself), or through the setuid helpers <c>newuidmap</c>/<c>newgidmap</c>, which
/// may also map the subordinate ranges <c>/etc/subuid</c> and <c>/etc/subgid</c> grant the caller.
/// </summary>
internal sealed record UserNamespaceMapping(IReadOnlyList<LinuxIdMapping> Uids, IReadOnlyList<LinuxIdMapping> Gids, bool ViaHelpers)
{
    /// <summary>Mapping for an unprivileged caller: itself to 0, plus its subordinate ranges from 1 when the helpers can map them.</summary>
    public static UserNamespaceMapping Rootless()
    {
        var (uid, gid) = CallerIds();
        var subUid = SubordinateRange("/etc/subuid", uid);
        var subGid = SubordinateRange("/etc/subgid", uid);
        var helpers = subUid is not null && subGid is not null
            && File.Exists("/usr/bin/newuidmap") && File.Exists("/usr/bin/newgidmap");
        if (!helpers)
        {
            return new([new(0, uid, 1)], [new(0, gid, 1)], ViaHelpers: false);
        }

        return new(
            [new(0, uid, 1), new(1, subUid!.Value.Start, subUid.Value.Count)],
            [new(0, gid, 1), new(1, subGid!.Value.Start, subGid.Value.Count)],
            ViaHelpers: true);
    }

    /// <summary>Whether the container may call setgroups: denied when an unprivileged caller writes its own gid map.</summary>
    public bool SetGroupsAllowed => ViaHelpers || Environment.IsPrivilegedProcess;

    /// <summary>Writes the maps of the user namespace of <paramref name="pid"/>, which waits for them.</summary>
    public void Apply(int pid)
    {
        var proc = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        if (ViaHelpers)
        {
            RunHelper("/usr/bin/newuidmap", pid, Uids);
            RunHelper("/usr/bin/newgidmap", pid, Gids);
            return;
        }

        File.WriteAllText(proc + "/uid_map", Format(Uids));
        if (!Environment.IsPrivilegedProcess)
        {
            // The kernel allows an unprivileged gid_map only once setgroups is denied in the namespace.
            File.WriteAllText(proc + "/setgroups", "deny");
        }

        File.WriteAllText(proc + "/gid_map", Format(Gids));
    }

    internal static (uint Uid, uint Gid) CallerIds()
    {
        uint uid = 0, gid = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            // "Uid:\treal\teffective\tsaved\tfilesystem": the effective id is what the kernel maps.
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                uid = uint.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Gid:", StringComparison.Ordinal))
            {
                gid = uint.Parse(line.Split('\t')[2], CultureInfo.InvariantCulture);
            }
        }

        return (uid, gid);
    }

    private static (uint Start, uint Count)? SubordinateRange(string file, uint uid)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var name = Environment.UserName;
        var id = uid.ToString(CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines(file))
        {
            var fields = line.Split(':');
            if (fields.Length == 3 && (fields[0] == name || fields[0] == id)
                && uint.TryParse(fields[1], CultureInfo.InvariantCulture, out var start)
                && uint.TryParse(fields[2], CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                return (start, count);
            }
        }

        return null;
    }

    private static string Format(IEnumerable<LinuxIdMapping> mappings) =>
        string.Concat(mappings.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.ContainerId} {m.HostId} {m.Size}\n")));

    private static void RunHelper(string helper, int pid, IEnumerable<LinuxIdMapping> mappings)
    {
        var start = new ProcessStartInfo(helper) { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        foreach (var m in mappings)
        {
            start.ArgumentList.Add(m.ContainerId.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(m.HostId.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(m.Size.ToString(CultureInfo.InvariantCulture));
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new ContainersException($"{Path.GetFileName(helper)} failed ({error.Trim()}): check the caller's entries in /etc/subuid and /etc/subgid");
        }
    }
}
