namespace Containers.Linux;

/// <summary>One line of a <c>uid_map</c>/<c>gid_map</c>: <paramref name="Size"/> ids from <paramref name="HostId"/> appear as <paramref name="ContainerId"/> on.</summary>
/// <param name="ContainerId">The first id inside the user namespace.</param>
/// <param name="HostId">The first id outside (in the launcher's user namespace).</param>
/// <param name="Size">How many consecutive ids are mapped.</param>
internal readonly record struct IdMapRange(uint ContainerId, uint HostId, uint Size);
