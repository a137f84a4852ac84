namespace Containers.Runtime.Plan;

/// <summary>What <see cref="IHostView.Inspect"/> found at a path.</summary>
/// <param name="Kind">Directory, symbolic link, or any other file.</param>
/// <param name="Mode">The permission bits (<c>0777</c> and the set-id and sticky bits).</param>
/// <param name="LinkTarget">For a symbolic link, its target as written.</param>
internal sealed record HostFile(HostFileKind Kind, UnixFileMode Mode = 0, string? LinkTarget = null)
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>A directory.</summary>
    public static HostFile Directory { get; } = new(HostFileKind.Directory, (UnixFileMode)0x1ed);

    /// <summary>A symbolic link to <paramref name="target"/>.</summary>
    public static HostFile Link(string target) => new(HostFileKind.SymbolicLink, LinkTarget: target);

    /// <summary>A file with the permission bits <paramref name="mode"/>.</summary>
    public static HostFile File(UnixFileMode mode) => new(HostFileKind.File, mode);

    /// <summary>Whether execve would run it as far as the file itself goes: a file with an execute bit.</summary>
    public bool IsExecutable => Kind == HostFileKind.File && (Mode & AnyExecute) != 0;
}

/// <summary>The kinds of file the plan steps tell apart.</summary>
internal enum HostFileKind
{
    /// <summary>A regular file or any other non-directory that is not a link (a device, a socket).</summary>
    File,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link.</summary>
    SymbolicLink,
}
