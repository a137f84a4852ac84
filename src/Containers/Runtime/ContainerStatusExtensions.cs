namespace Containers.Runtime;

/// <summary>Which lifecycle operation each <see cref="ContainerStatus"/> allows, per the OCI runtime specification.</summary>
public static class ContainerStatusExtensions
{
    /// <summary>Whether <see cref="Container.StartAsync"/> is allowed: only a created container starts.</summary>
    public static bool CanStart(this ContainerStatus status) => status == ContainerStatus.Created;

    /// <summary>Whether a signal can be sent: the process exists (created or running).</summary>
    public static bool CanKill(this ContainerStatus status) =>
        status is ContainerStatus.Created or ContainerStatus.Running or ContainerStatus.Paused;

    /// <summary>Whether the container can be deleted without killing it first: it has stopped.</summary>
    public static bool CanDelete(this ContainerStatus status) => status == ContainerStatus.Stopped;

    /// <summary>The lower-case name the OCI runtime specification uses (<c>created</c>, <c>running</c>, …).</summary>
    public static string ToOciString(this ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Paused => "paused",
        _ => "stopped",
    };
}
