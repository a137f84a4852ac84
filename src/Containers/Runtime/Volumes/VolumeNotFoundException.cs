namespace Containers.Runtime;

/// <summary>No volume has the given name. List the volumes to see what exists, or create it.</summary>
public sealed class VolumeNotFoundException : ContainersException
{
    /// <summary>Creates the error for the volume named <paramref name="name"/>.</summary>
    public VolumeNotFoundException(string name)
        : base($"volume '{name}' not found: list volumes with 'containers volume ls', or create it")
    {
        Name = name;
    }

    /// <summary>The name that matched nothing.</summary>
    public string Name { get; }
}
