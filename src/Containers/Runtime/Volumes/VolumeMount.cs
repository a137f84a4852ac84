namespace Containers.Runtime;

/// <summary>A named volume mounted into a container made from an image (Docker's <c>-v NAME:/path[:ro]</c>); a volume that does not exist yet is created.</summary>
/// <param name="Name">The volume's name.</param>
/// <param name="Destination">The absolute path inside the container.</param>
/// <param name="ReadOnly">Whether the container may only read it.</param>
/// <example>
/// <code>
/// new ImageContainerOptions { Volumes = [new VolumeMount("pgdata", "/var/lib/postgresql/data")] }
/// </code>
/// </example>
public sealed record VolumeMount(string Name, string Destination, bool ReadOnly = false);
