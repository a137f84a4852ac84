namespace Containers.Runtime;

/// <summary>An operation is not allowed in the container's current lifecycle state (for example starting a running container).</summary>
public sealed class ContainerStatusException : ContainersException
{
    /// <summary>Creates the error for <paramref name="operation"/> on container <paramref name="id"/> in <paramref name="status"/>.</summary>
    public ContainerStatusException(string id, string operation, ContainerStatus status, string remedy)
        : base($"cannot {operation} container '{id}': it is {status.ToOciString()}; {remedy}")
    {
        Id = id;
        Status = status;
    }

    /// <summary>The container's id.</summary>
    public string Id { get; }

    /// <summary>The state that forbade the operation.</summary>
    public ContainerStatus Status { get; }
}
