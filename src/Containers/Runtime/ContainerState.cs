namespace Containers.Runtime;

/// <summary>
/// The persisted state of one container (<c>state.json</c> in its folder under the runtime's state directory),
/// shaped like the OCI runtime specification's state plus what another process needs to find and signal it safely.
/// </summary>
internal sealed record ContainerState
{
    /// <summary>The version of the OCI runtime specification this state follows.</summary>
    public string OciVersion { get; init; } = "1.2.0";

    /// <summary>The container's unique id within its state directory.</summary>
    public required string Id { get; init; }

    /// <summary>The lifecycle state when this record was written; <see cref="ContainerRuntime"/> corrects it when the process has gone.</summary>
    public required ContainerStatus Status { get; init; }

    /// <summary>The container's init process id on the host, or 0 when it has none yet.</summary>
    public int Pid { get; init; }

    /// <summary>The start time of <see cref="Pid"/> in clock ticks after boot (<c>/proc/PID/stat</c> field 22), which tells a reused pid apart.</summary>
    public ulong PidStartTime { get; init; }

    /// <summary>The folder that holds this state and the container's <c>config.json</c>.</summary>
    public required string Bundle { get; init; }

    /// <summary>When the container was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>The process that owns the container (holds its stdio and waits for it); it dies with this process.</summary>
    public required int OwnerPid { get; init; }

    /// <summary>The start time of <see cref="OwnerPid"/>, which tells a reused pid apart.</summary>
    public required ulong OwnerStartTime { get; init; }

    /// <summary>
    /// The pid namespace of <see cref="OwnerPid"/> (the inode of its <c>/proc/PID/ns/pid</c>; 0 when not known). A
    /// process in another pid namespace sees other pids, or none: it cannot tell whether the owner lives.
    /// </summary>
    public ulong OwnerPidNamespace { get; init; }

    /// <summary>
    /// Whether this process can observe the container's processes (<see cref="ProcessIdentity.SeesPidsOf"/>): its
    /// <see cref="OwnerPid"/> and <see cref="Pid"/> are pids of the owner's namespace. When not, nothing here may judge
    /// them alive or dead, and no signal, wait or join can reach them: the status is what the owner last recorded.
    /// </summary>
    public bool IsObservableHere() => ProcessIdentity.SeesPidsOf(OwnerPidNamespace);

    /// <summary>The command line of the container's process.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>The exit code once the process has exited normally.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Whether <see cref="Pid"/> is an init whose one child runs the user's program (<see cref="ContainerCreateOptions.Init"/>).</summary>
    public bool Init { get; init; }

    /// <summary>The number of the signal that terminated the process, when one did.</summary>
    public int? Signal { get; init; }

    /// <summary>The JSON-lines output log of a detached container, when it has one.</summary>
    public string? LogPath { get; init; }

    /// <summary>How the log at <see cref="LogPath"/> is rotated, when there is one.</summary>
    public ContainerLogOptions? LogOptions { get; init; }

    /// <summary>The container's cgroup directories (per v1 hierarchy, or <c>""</c> for v2), or null without a cgroup.</summary>
    public IReadOnlyDictionary<string, string>? Cgroup { get; init; }

    /// <summary>The image the container was made from, when it was: the reference as given, its digest and what its config declares.</summary>
    public ContainerImage? Image { get; init; }

    /// <summary>The names of the volumes the container mounts (null in a state written before volumes existed); none of them can be removed while the container exists.</summary>
    public IReadOnlyList<string>? Volumes { get; init; }

    /// <summary>The signal number that stops the container gracefully (the image's <c>StopSignal</c>), or null for SIGTERM.</summary>
    public int? StopSignal { get; init; }

    /// <summary>The container's own directory (an overlay root's upper and work directories), removed with the container.</summary>
    public string? ContainerDirectory { get; init; }

    /// <summary>An overlay root's lower directories, top first, so its root can be mounted again while it is stopped (a copy).</summary>
    public IReadOnlyList<string>? LowerDirectories { get; init; }

    /// <summary>The lease the container holds on its image in an image store, removed with the container.</summary>
    public string? LeaseFile { get; init; }

    /// <summary>The uid map of the container's own user namespace (container id, host id, size), or null without one; a commit maps the owners of its files back through it.</summary>
    public IReadOnlyList<Spec.LinuxIdMapping>? UidMappings { get; init; }

    /// <summary>The gid map of the container's own user namespace, or null without one.</summary>
    public IReadOnlyList<Spec.LinuxIdMapping>? GidMappings { get; init; }
}
