using Containers.Images;
using Containers.Runtime.Volumes;

namespace Containers.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Creates the named volume <paramref name="name"/> (empty) beside the image store, or returns it when it exists.
    /// Containers mount it with <see cref="ImageContainerOptions.Volumes"/>; it outlives them.
    /// </summary>
    /// <param name="name">Letters, digits, <c>_</c>, <c>.</c> and <c>-</c>, starting with a letter or digit.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <exception cref="InvalidVolumeNameException">The name is not valid.</exception>
    /// <example>
    /// <code>
    /// await runtime.CreateVolumeAsync("cache");
    /// await runtime.RunFromImageAsync("busybox", new ImageContainerOptions { Volumes = [new VolumeMount("cache", "/cache")], Command = ["sh", "-c", "date >> /cache/runs"] }, ct);
    /// </code>
    /// </example>
    public async Task<Volume> CreateVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        VolumeStore.ValidateName(name);
        var volumes = VolumesOf(await ImagesAsync(cancellationToken).ConfigureAwait(false));
        using (await volumes.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            return volumes.GetOrCreate(name);
        }
    }

    /// <summary>Lists the volumes, named and anonymous, by name.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async Task<IReadOnlyList<Volume>> ListVolumesAsync(CancellationToken cancellationToken = default) =>
        VolumesOf(await ImagesAsync(cancellationToken).ConfigureAwait(false)).List();

    /// <summary>Finds the volume <paramref name="name"/>.</summary>
    /// <param name="name">The volume's name.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <exception cref="VolumeNotFoundException">No volume has this name.</exception>
    public async Task<Volume> GetVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return VolumesOf(await ImagesAsync(cancellationToken).ConfigureAwait(false)).Get(name);
    }

    /// <summary>Removes the volume <paramref name="name"/> with its files, unless a container (running or stopped, not yet removed) uses it.</summary>
    /// <param name="name">The volume's name.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <exception cref="VolumeNotFoundException">No volume has this name.</exception>
    /// <exception cref="VolumeInUseException">A container uses it; the error names the containers.</exception>
    public async Task RemoveVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var volumes = VolumesOf(await ImagesAsync(cancellationToken).ConfigureAwait(false));
        using (await volumes.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            volumes.Get(name);
            var users = Users(name);
            if (users.Count > 0)
            {
                throw new VolumeInUseException(name, users);
            }

            volumes.Remove(name);
        }
    }

    /// <summary>Removes every volume no container uses (as Docker's <c>volume prune --all</c>) and returns their names.</summary>
    /// <param name="cancellationToken">Cancels the removal; volumes removed until then stay removed.</param>
    public async Task<IReadOnlyList<string>> PruneVolumesAsync(CancellationToken cancellationToken = default)
    {
        var volumes = VolumesOf(await ImagesAsync(cancellationToken).ConfigureAwait(false));
        var removed = new List<string>();
        using (await volumes.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var inUse = _states.List().SelectMany(s => s.Volumes ?? []).ToHashSet(StringComparer.Ordinal);
            foreach (var volume in volumes.List())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!inUse.Contains(volume.Name))
                {
                    volumes.Remove(volume.Name);
                    removed.Add(volume.Name);
                }
            }
        }

        return removed;
    }

    private static VolumeStore VolumesOf(ImageStore store) => new(Path.Combine(store.Root, "volumes"));

    private List<string> Users(string volume) =>
        [.. _states.List().Where(s => s.Volumes?.Contains(volume, StringComparer.Ordinal) == true).Select(s => s.Id)];
}
