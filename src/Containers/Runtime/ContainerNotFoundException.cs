namespace Containers.Runtime;

/// <summary>No container with the given id exists in the runtime's state directory.</summary>
public sealed class ContainerNotFoundException : ContainersException
{
    /// <summary>Creates the error for <paramref name="id"/> in <paramref name="stateDirectory"/>.</summary>
    public ContainerNotFoundException(string id, string stateDirectory)
        : base($"no such container: '{id}' (state directory {stateDirectory}); list containers with 'containers ps'")
    {
        Id = id;
    }

    /// <summary>The id that was not found.</summary>
    public string Id { get; }
}
