namespace Containers.Linux;

/// <summary>The subordinate uid and gid ranges an unprivileged user may map into a user namespace (<c>/etc/subuid</c>, <c>/etc/subgid</c>).</summary>
/// <param name="UidStart">The first host uid of the range.</param>
/// <param name="UidCount">How many uids the range holds.</param>
/// <param name="GidStart">The first host gid of the range.</param>
/// <param name="GidCount">How many gids the range holds.</param>
internal sealed record SubordinateIds(uint UidStart, uint UidCount, uint GidStart, uint GidCount)
{
    private static readonly Lazy<SubordinateIds?> OfThisUser = new(() => Read(Environment.UserName, LibC.geteuid()));

    /// <summary>
    /// The uid map of a rootless container's user namespace: <paramref name="uid"/> (the caller) as 0, then the
    /// range from 1, so container uid N is the Nth subordinate uid.
    /// </summary>
    public IdMapRange[] UidMap(uint uid) => [new(0, uid, 1), new(1, UidStart, UidCount)];

    /// <summary>The gid map that goes with <see cref="UidMap"/>.</summary>
    public IdMapRange[] GidMap(uint gid) => [new(0, gid, 1), new(1, GidStart, GidCount)];

    /// <summary>The uid a container with <see cref="UidMap"/> sees for host uid <paramref name="host"/>; null when the map does not cover it.</summary>
    public uint? ContainerUid(uint host, uint caller) => Inside(host, caller, UidStart, UidCount);

    /// <summary>The gid a container with <see cref="GidMap"/> sees for host gid <paramref name="host"/>; null when the map does not cover it.</summary>
    public uint? ContainerGid(uint host, uint caller) => Inside(host, caller, GidStart, GidCount);

    private static uint? Inside(uint host, uint caller, uint start, uint count) =>
        host == caller ? 0 : host >= start && host - start < count ? host - start + 1 : null;

    /// <summary>
    /// The ranges of the user this process runs as, when <c>newuidmap</c> and <c>newgidmap</c> can map them; null
    /// for root (it maps any id itself) and for a user without ranges or helpers. Read once per process.
    /// </summary>
    public static SubordinateIds? Current => LibC.geteuid() == 0 ? null : OfThisUser.Value;

    /// <summary>The ranges <paramref name="user"/> (<paramref name="uid"/>) is granted, when the helpers that map them are installed.</summary>
    public static SubordinateIds? Read(string user, uint uid)
    {
        if (!File.Exists("/usr/bin/newuidmap") || !File.Exists("/usr/bin/newgidmap"))
        {
            return null;
        }

        return UserNamespaceMaps.FindSubordinateRange("/etc/subuid", user, uid) is { } u
            && UserNamespaceMaps.FindSubordinateRange("/etc/subgid", user, uid) is { } g
            ? new SubordinateIds(u.Start, u.Count, g.Start, g.Count)
            : null;
    }
}
