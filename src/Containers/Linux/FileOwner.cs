namespace Containers.Linux;

/// <summary>An owner to give a file, as <see cref="ForeignOwners.GiveAsync"/> does.</summary>
/// <param name="Path">The file, relative to the folder it is in ('/'-separated).</param>
/// <param name="Uid">Its uid as a container sees it.</param>
/// <param name="Gid">Its gid as a container sees it.</param>
/// <param name="Mode">The permission bits to set again after the chown (null for a symbolic link).</param>
internal readonly record struct FileOwner(string Path, uint Uid, uint Gid, uint? Mode);
