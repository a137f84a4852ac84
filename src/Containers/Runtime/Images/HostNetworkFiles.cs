using Containers.Spec;

namespace Containers.Runtime.Images;

/// <summary>
/// A container of an image that shares the host's network resolves names as the host does, as Docker's does: the
/// host's <c>/etc/resolv.conf</c> and <c>/etc/hosts</c> are bound read-only at the same paths (the image's own are
/// hidden, never changed; the mount points are made in the container's layer, which a commit leaves out). Docker
/// copies the files; a read-only bind keeps the container from changing the host's. A path the caller mounts
/// something at is the caller's; a host without the file, or an image with a link or a directory there, gets
/// nothing. A container in a network namespace of its own (or another container's) has nothing to resolve with
/// the host's files: one of its own gets an <c>/etc/hosts</c> of its own instead (<see cref="OwnNetworkFiles"/>).
/// </summary>
internal static class HostNetworkFiles
{
    private static readonly string[] Paths = ["/etc/resolv.conf", "/etc/hosts"];

    public static ContainerSpec Add(ContainerSpec spec, LayeredFiles files)
    {
        if (spec.Linux?.FindNamespace(NamespaceType.Network) is not null)
        {
            return spec;
        }

        foreach (var path in Paths)
        {
            // The host's file with its links followed: a bind of a file needs a file as its source.
            var host = new FileInfo(path);
            var source = host.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            if (File.Exists(source) && !spec.Mounts.Any(m => m.Destination.TrimEnd('/') == path) && files.IsFileOrMissing(path))
            {
                spec = spec.WithBindMount(source, path, readOnly: true);
            }
        }

        return spec;
    }
}
