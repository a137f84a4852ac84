namespace Containers.Runtime;

/// <summary>A container with the requested id already exists in the runtime's state directory.</summary>
public sealed class ContainerAlreadyExistsException : ContainersException
{
    /// <summary>Creates the error for <paramref name="id"/>.</summary>
    public ContainerAlreadyExistsException(string id)
        : base($"a container named '{id}' already exists: choose another name or remove it first ('containers rm -f {id}')")
    {
        Id = id;
    }

    /// <summary>The id that is taken.</summary>
    public string Id { get; }
}
