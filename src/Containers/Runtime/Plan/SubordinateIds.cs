namespace Containers.Runtime.Plan;

/// <summary>The subordinate uid and gid ranges an unprivileged user may map into a user namespace (<c>/etc/subuid</c>, <c>/etc/subgid</c>).</summary>
/// <param name="UidStart">The first host uid of the range.</param>
/// <param name="UidCount">How many uids the range holds.</param>
/// <param name="GidStart">The first host gid of the range.</param>
/// <param name="GidCount">How many gids the range holds.</param>
internal sealed record SubordinateIds(uint UidStart, uint UidCount, uint GidStart, uint GidCount);
