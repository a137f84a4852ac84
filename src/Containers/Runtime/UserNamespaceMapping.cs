using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// The uid and gid maps of a container's new user namespace: the spec's own, identity for root, or for an
/// unprivileged caller itself as 0 plus the subordinate ranges <c>/etc/subuid</c> and <c>/etc/subgid</c> grant it
/// (mapped through <c>newuidmap</c>/<c>newgidmap</c>). <see cref="UserNamespaceMaps"/> writes them.
/// </summary>
internal sealed record UserNamespaceMapping(IReadOnlyList<LinuxIdMapping> Uids, IReadOnlyList<LinuxIdMapping> Gids, bool ViaHelpers)
{
    /// <summary>Mapping for an unprivileged caller: itself to 0, plus its subordinate ranges from 1 when the helpers can map them.</summary>
    public static UserNamespaceMapping Rootless()
    {
        uint uid = LibC.geteuid(), gid = LibC.getegid();
        var user = Environment.UserName;
        var subUid = UserNamespaceMaps.FindSubordinateRange("/etc/subuid", user, uid);
        var subGid = UserNamespaceMaps.FindSubordinateRange("/etc/subgid", user, uid);
        if (subUid is not { } u || subGid is not { } g || !File.Exists("/usr/bin/newuidmap") || !File.Exists("/usr/bin/newgidmap"))
        {
            return new([new(0, uid, 1)], [new(0, gid, 1)], ViaHelpers: false);
        }

        return new([new(0, uid, 1), new(1, u.Start, u.Count)], [new(0, gid, 1), new(1, g.Start, g.Count)], ViaHelpers: true);
    }

    /// <summary>Whether the container may call setgroups: denied when an unprivileged caller writes its own gid map.</summary>
    public bool SetGroupsAllowed => ViaHelpers || Environment.IsPrivilegedProcess;

    /// <summary>Writes the maps of the user namespace of <paramref name="pid"/>, which waits for them.</summary>
    public Task ApplyAsync(int pid, CancellationToken cancellationToken) =>
        UserNamespaceMaps.WriteAsync(pid, Ranges(Uids), Ranges(Gids), cancellationToken);

    private static IdMapRange[] Ranges(IReadOnlyList<LinuxIdMapping> mappings) =>
        [.. mappings.Select(m => new IdMapRange(m.ContainerId, m.HostId, m.Size))];
}
