namespace Containers.Runtime.Plan;

/// <summary>
/// Resolves a path inside a root filesystem directory on the host the way the kernel will once that directory is
/// <c>/</c>: symbolic links (absolute ones too) are followed relative to the root and never lead out of it.
/// </summary>
internal static class RootfsPath
{
    private const int MaxLinks = 40;

    /// <summary>The host path <paramref name="path"/> (absolute, inside the container) names, or null when it does not exist.</summary>
    public static string? Resolve(IHostView host, string root, string path)
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

            var candidate = Join(root, resolved.Append(part));
            switch (host.Inspect(candidate))
            {
                case null:
                    return null;
                case { Kind: HostFileKind.SymbolicLink, LinkTarget: var target }:
                    if (++links > MaxLinks)
                    {
                        return null;
                    }

                    if (target!.StartsWith('/'))
                    {
                        resolved.Clear();
                    }

                    foreach (var next in Components(target).Reverse())
                    {
                        pending.Push(next);
                    }

                    break;
                default:
                    resolved.Add(part);
                    break;
            }
        }

        return Join(root, resolved);
    }

    private static string Join(string root, IEnumerable<string> parts) =>
        root.TrimEnd('/') + "/" + string.Join('/', parts);

    private static IEnumerable<string> Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".");
}
