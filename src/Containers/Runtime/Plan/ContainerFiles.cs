using System.Collections.Immutable;

namespace Containers.Runtime.Plan;

/// <summary>
/// Where the files a container will see live on the host, as far as the plan knows before the start: the root
/// (a directory, the host's own <c>/</c> seen only through some of its folders, or nothing), and the mounts on top
/// of it (a bind's source, or a fresh filesystem that starts empty). The steps that assemble the root record it
/// here; the process step looks the program up in it before anything is created.
/// </summary>
/// <param name="Root">The host directory that becomes <c>/</c>, or null for a root that starts empty.</param>
/// <param name="Visible">When not empty, only paths that resolve (on the host) below one of these directories are in the container (the host rootfs binds only some).</param>
/// <param name="Mounts">Mounts in order: the container path and the host directory or file shown there, or null for an empty filesystem.</param>
/// <param name="Layers">For an overlay root (<see cref="Root"/> null): its lower directories, top first, seen as one tree.</param>
internal sealed record ContainerFiles(string? Root, ImmutableArray<string> Visible, ImmutableArray<(string Destination, string? Source)> Mounts,
    ImmutableArray<string> Layers = default)
{
    /// <summary>The files of an overlay of <paramref name="layers"/> (top first) that starts with an empty upper directory.</summary>
    public static ContainerFiles Overlay(ImmutableArray<string> layers) => new(null, [], [], layers);

    /// <summary>A root that starts empty, with no mounts yet.</summary>
    public static ContainerFiles Empty { get; } = new(null, [], []);

    /// <summary>The files of a running container: all of them are reachable through <c>/proc/PID/root</c>.</summary>
    public static ContainerFiles OfProcess(int pid) => new($"/proc/{pid}/root", [], []);

    /// <summary>Adds a mount at <paramref name="destination"/> showing <paramref name="source"/> (null: an empty filesystem).</summary>
    public ContainerFiles WithMount(string destination, string? source) => this with { Mounts = Mounts.Add((destination, source)) };

    /// <summary>
    /// What is at <paramref name="path"/> (absolute, in the container) after links are followed inside the
    /// container's root, or null when nothing is there.
    /// </summary>
    public HostFile? Find(IHostView host, string path) =>
        Locate(host, path) is { } hostPath ? host.Inspect(hostPath) : null;

    private string? Locate(IHostView host, string path)
    {
        for (var i = Mounts.Length - 1; i >= 0; i--)
        {
            var (destination, source) = Mounts[i];
            var prefix = destination.TrimEnd('/');
            if (path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                return source is null ? null
                    : path.Length == prefix.Length ? source
                    : RootfsPath.Resolve(host, source, path[prefix.Length..]);
            }
        }

        if (!Layers.IsDefaultOrEmpty)
        {
            var merged = new LayeredView(host, Layers);
            return RootfsPath.Resolve(merged, "/", path) is { } inside ? merged.Locate(inside) : null;
        }

        if (Root is null || RootfsPath.Resolve(host, Root, path) is not { } resolved)
        {
            return null;
        }

        return Visible.IsEmpty || Visible.Any(d => resolved == d || resolved.StartsWith(d + "/", StringComparison.Ordinal)) ? resolved : null;
    }
}
