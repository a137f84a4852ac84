using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Containers.Linux;

/// <summary>
/// Writes the uid/gid maps of a child's new user namespace while it waits in WAIT_FD (call before
/// <see cref="ChildProcess.Continue"/>). Root writes the maps directly; an unprivileged caller can map only its own
/// ids directly (with setgroups denied) and needs the setuid helpers newuidmap/newgidmap for subordinate ranges.
/// </summary>
internal static class UserNamespaceMaps
{
    /// <summary>Writes <paramref name="uids"/> and <paramref name="gids"/> for the process <paramref name="pid"/>.</summary>
    public static async Task WriteAsync(int pid, IReadOnlyList<IdMapRange> uids, IReadOnlyList<IdMapRange> gids,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uids);
        ArgumentNullException.ThrowIfNull(gids);
        if (LibC.geteuid() == 0)
        {
            WriteMap(pid, "uid_map", uids);
            WriteMap(pid, "gid_map", gids);
            return;
        }

        if (IsOwnId(uids, LibC.geteuid()) && IsOwnId(gids, LibC.getegid()))
        {
            // Without CAP_SETGID in the parent namespace the kernel requires setgroups to be denied first.
            try
            {
                ProcFile.Write(pid, "setgroups", "deny");
            }
            catch (IOException e)
            {
                throw new ContainersException($"denying setgroups of pid {pid} failed ({e.Message})", e);
            }

            WriteMap(pid, "uid_map", uids);
            WriteMap(pid, "gid_map", gids);
            return;
        }

        await RunHelperAsync("newuidmap", pid, uids, cancellationToken).ConfigureAwait(false);
        await RunHelperAsync("newgidmap", pid, gids, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The subordinate range of <paramref name="user"/> in <paramref name="file"/> (/etc/subuid or /etc/subgid), if any.</summary>
    public static (uint Start, uint Count)? FindSubordinateRange(string file, string user, uint id)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(':');
            if (parts.Length == 3 && (parts[0] == user || parts[0] == id.ToString(CultureInfo.InvariantCulture)) &&
                uint.TryParse(parts[1], CultureInfo.InvariantCulture, out var start) &&
                uint.TryParse(parts[2], CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                return (start, count);
            }
        }

        return null;
    }

    private static bool IsOwnId(IReadOnlyList<IdMapRange> map, uint id) => map is [{ HostId: var h, Size: 1 }] && h == id;

    private static void WriteMap(int pid, string file, IReadOnlyList<IdMapRange> map)
    {
        var text = new StringBuilder();
        foreach (var range in map)
        {
            text.Append(CultureInfo.InvariantCulture, $"{range.ContainerId} {range.HostId} {range.Size}\n");
        }

        try
        {
            ProcFile.Write(pid, file, text.ToString());
        }
        catch (IOException e)
        {
            throw new ContainersException($"writing {file} of pid {pid} failed ({e.Message}): a map may only name ids the caller owns", e);
        }
    }

    private static async Task RunHelperAsync(string tool, int pid, IReadOnlyList<IdMapRange> map, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        foreach (var range in map)
        {
            start.ArgumentList.Add(range.ContainerId.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(range.HostId.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(range.Size.ToString(CultureInfo.InvariantCulture));
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ContainersException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ContainersException(
                $"mapping more than your own id into a user namespace needs {tool}: install the package uidmap and add your user to /etc/subuid and /etc/subgid", e);
        }

        using (process)
        {
            // Process.Dispose leaves its redirected streams open (to the finalizer): close the pipe here.
            string error;
            using (var stderr = process.StandardError)
            {
                error = await stderr.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new ContainersException(
                    $"{tool} failed ({error.Trim()}): check that /etc/{(tool == "newuidmap" ? "subuid" : "subgid")} grants your user the mapped range");
            }
        }
    }
}
