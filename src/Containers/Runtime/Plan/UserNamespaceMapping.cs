using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The uid and gid maps of a container's new user namespace: the spec's own, identity for root, or for an
/// unprivileged caller itself as 0 plus the subordinate ranges <c>/etc/subuid</c> and <c>/etc/subgid</c> grant it
/// (mapped through <c>newuidmap</c>/<c>newgidmap</c>). <see cref="UserNamespaceMaps"/> writes them.
/// </summary>
/// <param name="Uids">The uid map.</param>
/// <param name="Gids">The gid map.</param>
/// <param name="SetGroupsAllowed">Whether the container may call setgroups: the kernel denies it when an unprivileged caller writes its own gid map.</param>
internal sealed record UserNamespaceMapping(IReadOnlyList<LinuxIdMapping> Uids, IReadOnlyList<LinuxIdMapping> Gids, bool SetGroupsAllowed)
{
    /// <summary>Identity over every id, for root.</summary>
    public static UserNamespaceMapping Identity { get; } = new([new(0, 0, uint.MaxValue)], [new(0, 0, uint.MaxValue)], SetGroupsAllowed: true);

    /// <summary>
    /// The spec's own maps (gids default to the uid map). An unprivileged caller writes a map of only its own id
    /// itself, which denies setgroups; any other map goes through the helpers, which allow it.
    /// </summary>
    public static UserNamespaceMapping FromSpec(IReadOnlyList<LinuxIdMapping> uids, IReadOnlyList<LinuxIdMapping> gids, IHostView host)
    {
        var ownIdsOnly = uids is [{ HostId: var u, Size: 1 }] && u == host.Uid && gids is [{ HostId: var g, Size: 1 }] && g == host.Gid;
        return new(uids, gids, SetGroupsAllowed: host.IsPrivileged || !ownIdsOnly);
    }

    /// <summary>Mapping for an unprivileged caller: itself to 0, plus its subordinate ranges from 1 when the helpers can map them.</summary>
    public static UserNamespaceMapping Rootless(IHostView host)
    {
        if (host.SubordinateIds is not { } sub)
        {
            return new([new(0, host.Uid, 1)], [new(0, host.Gid, 1)], SetGroupsAllowed: false);
        }

        return new([.. sub.UidMap(host.Uid).Select(ToSpec)], [.. sub.GidMap(host.Gid).Select(ToSpec)], SetGroupsAllowed: true);
    }

    /// <summary>Writes the maps of the user namespace of <paramref name="pid"/>, which waits for them.</summary>
    public Task ApplyAsync(int pid, CancellationToken cancellationToken) =>
        UserNamespaceMaps.WriteAsync(pid, Ranges(Uids), Ranges(Gids), cancellationToken);

    private static LinuxIdMapping ToSpec(IdMapRange range) => new(range.ContainerId, range.HostId, range.Size);

    private static IdMapRange[] Ranges(IReadOnlyList<LinuxIdMapping> mappings) =>
        [.. mappings.Select(m => new IdMapRange(m.ContainerId, m.HostId, m.Size))];
}
