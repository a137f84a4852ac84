using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// The machine's own facts for the plan steps: the one place compiling a plan reads the host. The ids and the
/// subordinate ranges are read once; files are inspected when a step asks.
/// </summary>
internal sealed class HostView : IHostView
{
    private readonly Lazy<SubordinateIds?> _subordinateIds;
    private readonly Lazy<ulong> _boundingSet = new(() => LaunchThread.Default.Run(CapabilityBoundingSet.ReadThisThread));
    private readonly Lazy<int> _lastCapability = new(CapabilityBoundingSet.ReadLastCapability);

    private HostView()
    {
        Uid = LibC.geteuid();
        Gid = LibC.getegid();
        _subordinateIds = new(() => Linux.SubordinateIds.Read(Environment.UserName, Uid));
    }

    /// <summary>The host this process runs on.</summary>
    public static HostView Current { get; } = new();

    public bool IsPrivileged => Uid == 0;

    public uint Uid { get; }

    public uint Gid { get; }

    public SubordinateIds? SubordinateIds => _subordinateIds.Value;

    /// <summary>Read on every compile: the SIGCHLD disposition can change while the process runs.</summary>
    public bool ReapsEveryChild => HostReaping.ReapsEveryChild();

    /// <summary>Read on the launch thread itself: the bounding set is per thread, and a child inherits its launcher's.</summary>
    public ulong BoundingSet => _boundingSet.Value;

    public int LastCapability => _lastCapability.Value;

    public HostFile? Inspect(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        try
        {
            // One statx of the path itself per component a lookup walks (a PATH search walks dozens); the target
            // is read only for a link.
            return LibC.OwnerAndMode(path) switch
            {
                null => null,
                { Mode: var mode } when (mode & FileSystemCalls.SIfMt) == FileSystemCalls.SIfLnk => new FileInfo(path).LinkTarget is { } target ? HostFile.Link(target) : null,
                { Mode: var mode } when (mode & FileSystemCalls.SIfMt) == FileSystemCalls.SIfDir => HostFile.Directory,
                { Mode: var mode } => HostFile.File((UnixFileMode)(mode & 0xfff)),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // What this process may not look at, it cannot tell apart from nothing.
            return null;
        }
    }
}
