namespace Containers.Runtime;

/// <summary>
/// Resolves a path inside a root filesystem directory on the host the way the kernel will once that directory is
/// <c>/</c>: symbolic links (absolute ones too) are followed relative to the root and never lead out of it.
/// </summary>
internal static class RootfsPath
{
    private const int MaxLinks = 40;

    /// <summary>The host path <paramref name="path"/> (absolute, inside the container) names, or null when it does not exist.</summary>
    public static string? Resolve(string root, string path)
    {
        var pending = new Stack<string>(Components(path).Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = Path.Combine(root, string.Join('/', resolved.Append(part)));
            if (new FileInfo(candidate).LinkTarget is { } target)
            {
                if (++links > MaxLinks)
                {
                    return null;
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var next in Components(target).Reverse())
                {
                    pending.Push(next);
                }

                continue;
            }

            if (!File.Exists(candidate) && !Directory.Exists(candidate))
            {
                return null;
            }

            resolved.Add(part);
        }

        return Path.Combine(root, string.Join('/', resolved));
    }

    /// <summary>Whether the path resolves (inside the root) to an executable regular file.</summary>
    public static bool IsExecutableFile(string root, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        return Resolve(root, path) is { } host && File.Exists(host)
            && (File.GetUnixFileMode(host) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".");
}
