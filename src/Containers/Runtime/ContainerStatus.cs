namespace Containers.Runtime;

/// <summary>The lifecycle states of a container, as the OCI runtime specification names them.</summary>
public enum ContainerStatus
{
    /// <summary>The container is being created: its process is being set up.</summary>
    Creating,

    /// <summary>The process is set up and waits for <see cref="Container.StartAsync"/> before running user code.</summary>
    Created,

    /// <summary>The user's process runs.</summary>
    Running,

    /// <summary>The container's process has exited.</summary>
    Stopped,

    /// <summary>Its processes are frozen (<see cref="Container.PauseAsync"/>) until <see cref="Container.ResumeAsync"/>.</summary>
    Paused,
}
