namespace Containers.Runtime;

/// <summary>What happened to a container, as Docker's event stream names it (<see cref="ContainerEvent"/>).</summary>
public enum ContainerEventAction
{
    /// <summary>The container was created (its process is set up; a run's starts at once, a <c>start</c> follows).</summary>
    Create,

    /// <summary>The container's program began to run.</summary>
    Start,

    /// <summary>Its processes were frozen (<see cref="Container.PauseAsync"/>).</summary>
    Pause,

    /// <summary>Its processes were thawed (<see cref="Container.ResumeAsync"/>).</summary>
    Unpause,

    /// <summary>A signal was sent to its first process (<see cref="ContainerEvent.Signal"/> says which).</summary>
    Kill,

    /// <summary>The kernel's OOM killer killed a process of the container (<see cref="ContainerEvent.OomKills"/> counts them).</summary>
    Oom,

    /// <summary>Its first process exited (<see cref="ContainerEvent.ExitCode"/> or <see cref="ContainerEvent.Signal"/> says how).</summary>
    Die,

    /// <summary>The container was deleted: its state and cgroup are gone.</summary>
    Destroy,

    /// <summary>Its limits were changed while it ran (<see cref="Container.UpdateAsync"/>).</summary>
    Update,
}
