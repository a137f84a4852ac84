namespace Containers.Cgroups;

/// <summary>What <c>/proc/self/cgroup</c> and <c>/proc/self/mountinfo</c> say about this process's cgroups.</summary>
internal static class HostCgroups
{
    /// <summary>This process's cgroup per v1 hierarchy (keyed by each controller it holds) and under <c>""</c> its v2 cgroup.</summary>
    public static Dictionary<string, string> OwnCgroups()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            // "4:memory:/a/b", "1:name=systemd:/", "0::/a"
            var first = line.IndexOf(':', StringComparison.Ordinal);
            var second = line.IndexOf(':', first + 1);
            if (first < 0 || second < 0)
            {
                continue;
            }

            var path = line[(second + 1)..];
            var controllers = line[(first + 1)..second];
            if (controllers.Length == 0)
            {
                result[""] = path;
                continue;
            }

            foreach (var controller in controllers.Split(','))
            {
                result[controller] = path;
            }
        }

        return result;
    }

    /// <summary>The mount point of each v1 hierarchy, keyed by each controller it holds.</summary>
    public static Dictionary<string, string> V1Mounts()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // "... mountpoint options - cgroup cgroup rw,memory"
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
            {
                continue;
            }

            var tail = line[(dash + 3)..].Split(' ');
            if (tail.Length < 3 || tail[0] != "cgroup")
            {
                continue;
            }

            var mountPoint = line[..dash].Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal);
            foreach (var option in tail[2].Split(','))
            {
                result.TryAdd(option, mountPoint);
            }
        }

        return result;
    }
}
