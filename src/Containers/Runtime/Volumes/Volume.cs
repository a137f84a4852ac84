namespace Containers.Runtime;

/// <summary>
/// A volume: a directory of the runtime's that outlives the containers using it, mounted at a path inside them.
/// A named volume is made by <see cref="ContainerRuntime.CreateVolumeAsync"/> or on first use by name; an anonymous
/// one for each path an image's config declares in <c>Volumes</c>. The first container that mounts an empty volume
/// copies the image's content at that path into it, as Docker does.
/// </summary>
/// <example>
/// <code>
/// var volume = await runtime.CreateVolumeAsync("pgdata");
/// Console.WriteLine(volume.Mountpoint); // /var/lib/containers-net/volumes/pgdata/_data
/// </code>
/// </example>
public sealed record Volume
{
    /// <summary>The volume's name (for an anonymous volume, 64 hexadecimal digits).</summary>
    public required string Name { get; init; }

    /// <summary>The host directory holding the volume's files.</summary>
    public required string Mountpoint { get; init; }

    /// <summary>When the volume was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>Whether the runtime made it for a path an image declares (<c>Volumes</c>) rather than by name.</summary>
    public bool Anonymous { get; init; }

    /// <summary>Whether a container has copied its image's content into it (done once, when the volume was empty).</summary>
    public bool Populated { get; init; }
}
