namespace Containers.Runtime;

/// <summary>A volume cannot be removed while a container (running or stopped, not yet removed) uses it.</summary>
public sealed class VolumeInUseException : ContainersException
{
    /// <summary>Creates the error for the volume <paramref name="name"/> used by <paramref name="containers"/>.</summary>
    public VolumeInUseException(string name, IReadOnlyList<string> containers)
        : base($"volume '{name}' is in use by container {string.Join(", ", containers)}: remove the container first")
    {
        Name = name;
        Containers = containers;
    }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    /// <summary>The ids of the containers using it.</summary>
    public IReadOnlyList<string> Containers { get; }
}
