using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>
/// Every log event of the runtime, one method each, with a stable <see cref="EventId"/> (1000–1099) and structured
/// fields (<c>ContainerId</c>, <c>Pid</c>, <c>ExitCode</c>, …) so a host can filter and query them.
/// </summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(1000, LogLevel.Debug, "Runtime opened on state directory {StateDirectory}; {StaleRemoved} stale containers removed")]
    public static partial void RuntimeOpened(ILogger logger, string stateDirectory, int staleRemoved);

    [LoggerMessage(1001, LogLevel.Information, "Removed stale container {ContainerId}: its owner {OwnerPid} and process {Pid} are gone")]
    public static partial void StaleContainerRemoved(ILogger logger, string containerId, int ownerPid, int pid);

    [LoggerMessage(1002, LogLevel.Debug, "Runtime disposed: {Disposed} containers it created were still alive and have been deleted")]
    public static partial void RuntimeDisposed(ILogger logger, int disposed);

    [LoggerMessage(1010, LogLevel.Debug, "Creating container {ContainerId}: {Command}")]
    public static partial void ContainerCreating(ILogger logger, string containerId, IReadOnlyList<string> command);

    [LoggerMessage(1011, LogLevel.Debug, "Created container {ContainerId}: pid {Pid}, joined a pooled network namespace: {PooledNetwork}")]
    public static partial void ContainerCreated(ILogger logger, string containerId, int pid, bool pooledNetwork);

    [LoggerMessage(1012, LogLevel.Warning, "Creating container {ContainerId} failed")]
    public static partial void ContainerCreateFailed(ILogger logger, Exception error, string containerId);

    [LoggerMessage(1013, LogLevel.Debug, "Started container {ContainerId}: pid {Pid}")]
    public static partial void ContainerStarted(ILogger logger, string containerId, int pid);

    [LoggerMessage(1014, LogLevel.Warning, "Starting container {ContainerId} failed")]
    public static partial void ContainerStartFailed(ILogger logger, Exception error, string containerId);

    [LoggerMessage(1015, LogLevel.Debug, "Sent signal {Signal} to container {ContainerId}")]
    public static partial void ContainerSignaled(ILogger logger, string containerId, int signal);

    [LoggerMessage(1016, LogLevel.Debug, "Stopping container {ContainerId}: signal {Signal}, SIGKILL after {GracePeriodMs} ms")]
    public static partial void ContainerStopping(ILogger logger, string containerId, int signal, double gracePeriodMs);

    [LoggerMessage(1017, LogLevel.Warning, "Container {ContainerId} did not exit within {GracePeriodMs} ms of SIGTERM: sending SIGKILL")]
    public static partial void ContainerStopEscalated(ILogger logger, string containerId, double gracePeriodMs);

    [LoggerMessage(1018, LogLevel.Debug, "Container {ContainerId} exited: exit code {ExitCode}, signal {Signal}")]
    public static partial void ContainerExited(ILogger logger, string containerId, int? exitCode, int? signal);

    [LoggerMessage(1019, LogLevel.Debug, "Deleted container {ContainerId}")]
    public static partial void ContainerDeleted(ILogger logger, string containerId);

    [LoggerMessage(1020, LogLevel.Warning, "Container {ContainerId} ran longer than its timeout of {TimeoutMs} ms: stopping it")]
    public static partial void ContainerTimedOut(ILogger logger, string containerId, double timeoutMs);

    [LoggerMessage(1021, LogLevel.Warning, "Container {ContainerId} wrote more than {MaxOutputBytes} bytes to {Stream}: the rest was discarded")]
    public static partial void ContainerOutputTruncated(ILogger logger, string containerId, OutputStream stream, long maxOutputBytes);

    [LoggerMessage(1022, LogLevel.Debug, "Run of container {ContainerId} cancelled: killed it")]
    public static partial void ContainerRunCanceled(ILogger logger, string containerId);

    [LoggerMessage(1023, LogLevel.Warning, "Container {ContainerId} exited but its output pipes stayed open {WaitMs} ms later (a process outside its pid namespace holds them): returning the output read so far")]
    public static partial void ContainerOutputNotClosed(ILogger logger, string containerId, double waitMs);

    [LoggerMessage(1030, LogLevel.Debug, "Exec in container {ContainerId} started: pid {Pid}, {Command}")]
    public static partial void ExecStarted(ILogger logger, string containerId, int pid, IReadOnlyList<string> command);

    [LoggerMessage(1031, LogLevel.Warning, "Exec in container {ContainerId} failed: {Command}")]
    public static partial void ExecFailed(ILogger logger, Exception error, string containerId, IReadOnlyList<string> command);

    [LoggerMessage(1032, LogLevel.Debug, "Exec in container {ContainerId} (pid {Pid}) exited: exit code {ExitCode}, signal {Signal}")]
    public static partial void ExecExited(ILogger logger, string containerId, int pid, int? exitCode, int? signal);

    [LoggerMessage(1040, LogLevel.Information, "Removed the directory {Folder} of a container that no longer exists")]
    public static partial void OrphanStorageRemoved(ILogger logger, string folder);

    [LoggerMessage(1041, LogLevel.Warning, "Could not remove the directory {Folder} of a container that no longer exists")]
    public static partial void OrphanStorageKept(ILogger logger, Exception error, string folder);

    [LoggerMessage(1042, LogLevel.Warning, "Could not remove the directories of container {ContainerId}")]
    public static partial void StorageRemoveFailed(ILogger logger, Exception error, string containerId);

    [LoggerMessage(1050, LogLevel.Debug, "Creating container {ContainerId} from image {Image} ({Digest}, {Layers} layers)")]
    public static partial void ContainerFromImage(ILogger logger, string containerId, string image, string digest, int layers);

    [LoggerMessage(1051, LogLevel.Information, "Image {Image} is not in the store: pulling it")]
    public static partial void ImageMissing(ILogger logger, string image);

    [LoggerMessage(1052, LogLevel.Debug, "Pulling image {Image} (pull policy {Policy})")]
    public static partial void ImagePulling(ILogger logger, string image, PullPolicy policy);

    [LoggerMessage(1060, LogLevel.Warning, "Cgroups left in place (the next runtime open removes them once empty)")]
    public static partial void StaleCgroupsNotRemoved(ILogger logger, Exception error);

    [LoggerMessage(1066, LogLevel.Warning, "The {Action} event of container {ContainerId} could not be recorded in the state directory's events")]
    public static partial void EventNotRecorded(ILogger logger, Exception error, string containerId, string action);

    [LoggerMessage(1065, LogLevel.Warning, "The cgroup pool could not make or remove a cgroup (starts make their own; a cgroup left in place is removed by a runtime opened after this process ends)")]
    public static partial void CgroupPoolFailed(ILogger logger, Exception error);

    [LoggerMessage(1061, LogLevel.Warning, "Container {ContainerId} ran out of memory: the OOM killer killed {Kills} of its processes")]
    public static partial void ContainerOomKilled(ILogger logger, string containerId, long kills);

    [LoggerMessage(1067, LogLevel.Warning, "OOM kills of container {ContainerId} are not recorded as they happen (its exit records those of its life)")]
    public static partial void OomKillsNotWatched(ILogger logger, Exception error, string containerId);

    [LoggerMessage(1062, LogLevel.Debug, "Container {ContainerId} {Change}")]
    public static partial void ContainerCgroupChanged(ILogger logger, string containerId, string change);

    [LoggerMessage(1063, LogLevel.Warning, "Container {ContainerId} was frozen by a commit (process {Pid}) that died before thawing it: thawed")]
    public static partial void AbandonedCommitThawed(ILogger logger, string containerId, int pid);

    [LoggerMessage(1064, LogLevel.Warning, "Container {ContainerId} was frozen by a commit that died; its cgroup could not be thawed")]
    public static partial void AbandonedCommitNotThawed(ILogger logger, Exception error, string containerId);

    [LoggerMessage(1070, LogLevel.Information, "Committed container {ContainerId} as {Tag} ({Digest})")]
    public static partial void ContainerCommitted(ILogger logger, string containerId, string tag, string digest);

    [LoggerMessage(1071, LogLevel.Warning, "Copy for container {ContainerId} left out {Count} devices, fifos or sockets found in {Path}")]
    public static partial void CopySkipped(ILogger logger, string containerId, int count, string path);

    [LoggerMessage(1072, LogLevel.Debug, "Copy for container {ContainerId} reached what this user may not in its user namespace, in {Count} child process(es)")]
    public static partial void CopyInUserNamespace(ILogger logger, string containerId, int count);
}
