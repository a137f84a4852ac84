namespace Containers.Runtime;

/// <summary>
/// What is known about a container, also one another process owns: what <c>ps</c> and <c>inspect</c> show. A
/// snapshot taken when it was read; <see cref="ContainerRuntime.ListAsync"/> and <see cref="Container.Info"/> read it
/// again.
/// </summary>
/// <example>
/// <code>
/// foreach (var info in await runtime.ListAsync())
///     Console.WriteLine($"{info.Id} {info.Status.ToOciString()} {string.Join(' ', info.Command)}");
/// </code>
/// </example>
public sealed record ContainerInfo
{
    /// <summary>The container's id, unique within its runtime's state directory.</summary>
    public required string Id { get; init; }

    /// <summary>
    /// The lifecycle state; a container whose process has gone is <see cref="ContainerStatus.Stopped"/>. When
    /// <see cref="OwnerInOtherPidNamespace"/>, it is what the owner last recorded: from here its process cannot be seen.
    /// </summary>
    public required ContainerStatus Status { get; init; }

    /// <summary>The host pid of the container's first process while it can run, otherwise null (a pid of the owner's pid namespace: see <see cref="OwnerInOtherPidNamespace"/>).</summary>
    public int? Pid { get; init; }

    /// <summary>The start time of <see cref="Pid"/>'s process in clock ticks after boot (<c>/proc/PID/stat</c> field 22), or 0 when it has none.</summary>
    public ulong ProcessStartTime { get; init; }

    /// <summary>When the container was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>The command line of the container's process.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The exit code once the process has exited by itself, otherwise null.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The number of the signal that terminated the process, when one did.</summary>
    public int? Signal { get; init; }

    /// <summary>Whether the container's pid 1 is an init that runs the user's program as its child (<see cref="ContainerCreateOptions.Init"/>).</summary>
    public bool Init { get; init; }

    /// <summary>Whether the container's output is kept in a log (<see cref="ContainerCreateOptions.KeepLog"/>); read it with <see cref="Container.ReadLogAsync"/>.</summary>
    public bool HasLog { get; init; }

    /// <summary>How the kept log is rotated (<see cref="ContainerCreateOptions.Log"/>), or null without a log.</summary>
    public ContainerLogOptions? Log { get; init; }

    /// <summary>The folder holding the container's state and <c>config.json</c>.</summary>
    public required string Bundle { get; init; }

    /// <summary>The host pid of the process that owns the container (holds its stdio; the container dies with it).</summary>
    public required int OwnerPid { get; init; }

    /// <summary>
    /// Whether the owner is in another pid namespace than this process (a runtime in a container, or run as pid 1 of
    /// a new pid namespace, sharing the state directory): <see cref="Pid"/> and <see cref="OwnerPid"/> are then pids of
    /// that namespace, which name other processes here or none. <see cref="Status"/> is what the owner last recorded,
    /// and what needs the process (signals, stop, kill, exec, a copy into its running root) throws
    /// <see cref="ContainerPidNamespaceException"/>: manage it from the owner's namespace.
    /// </summary>
    public bool OwnerInOtherPidNamespace { get; init; }

    /// <summary>The owner's pid namespace: the inode of its <c>/proc/PID/ns/pid</c> (<c>pid:[INODE]</c>), or 0 when its state does not record it.</summary>
    public ulong OwnerPidNamespace { get; init; }

    /// <summary>The image the container was made from (the reference as given, its digest, ports, labels), or null for a spec's own root.</summary>
    public ContainerImage? Image { get; init; }

    /// <summary>The signal number that stops the container gracefully (<see cref="Container.StopAsync"/>): the image's <c>StopSignal</c>, or 15 (SIGTERM).</summary>
    public int StopSignal { get; init; } = 15;

    /// <summary>The names of the volumes the container mounts (named and anonymous).</summary>
    public IReadOnlyList<string> Volumes { get; init; } = [];

    /// <summary>
    /// The read-only layers of a copy-on-write root, top first (<see cref="ContainerCreateOptions.Overlay"/>): an
    /// image's snapshots, or the one directory used copy-on-write; empty for a root used in place or the host's.
    /// </summary>
    public IReadOnlyList<string> LowerDirectories { get; init; } = [];

    internal static ContainerInfo From(ContainerState state) => new()
    {
        Id = state.Id,
        Status = state.Status,
        Pid = state.Status.CanKill() && state.Pid > 0 ? state.Pid : null,
        ProcessStartTime = state.Pid > 0 ? state.PidStartTime : 0,
        Created = state.Created,
        Command = state.Command,
        ExitCode = state.ExitCode,
        Signal = state.Signal,
        Init = state.Init,
        HasLog = state.LogPath is not null,
        Log = state.LogPath is null ? null : state.LogOptions ?? ContainerLogOptions.Default,
        Bundle = state.Bundle,
        OwnerPid = state.OwnerPid,
        OwnerInOtherPidNamespace = !state.IsObservableHere(),
        OwnerPidNamespace = state.OwnerPidNamespace,
        Image = state.Image,
        StopSignal = state.StopSignal ?? 15,
        Volumes = state.Volumes ?? [],
        LowerDirectories = state.LowerDirectories ?? [],
    };
}
