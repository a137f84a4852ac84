namespace Containers.Linux;

/// <summary>An owner to give a file, as <see cref="ForeignOwners.GiveAsync"/> does.</summary>
/// <param name="Path">The file, relative to the folder it is in ('/'-separated).</param>
/// <param name="Uid">Its uid as a container sees it.</param>
/// <param name="Gid">Its gid as a container sees it.</param>
/// <param name="Mode">The permission bits to set again after the chown, or null when the chown leaves them as they are.</param>
internal readonly record struct FileOwner(string Path, uint Uid, uint Gid, uint? Mode)
{
    /// <summary>
    /// The mode to set again after a chown of a file of mode <paramref name="mode"/>: a chown clears the setuid and
    /// setgid bits of what is not a directory and keeps every other bit, so only a mode with one of those needs it
    /// (the extra syscalls cost about as much as the chown itself). A link has no mode of its own.
    /// </summary>
    public static uint? ModeToRestore(uint mode, bool link) => link || (mode & 0xC00) == 0 ? null : mode & 0xFFF;
}
