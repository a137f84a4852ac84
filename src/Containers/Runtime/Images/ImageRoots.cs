using Containers.Images;
using Containers.Linux;
using Containers.Runtime.Volumes;
using Containers.Spec;

namespace Containers.Runtime.Images;

/// <summary>
/// Creates a container made from an image: its root is the image's snapshot chain as an <see cref="OverlayRootfs"/>
/// (a writable layer of its own on top, which holds a lease on the image), its spec the one the image's config made
/// (after the caller's <see cref="ImageContainerOptions.Configure"/>), its volumes mounted (named ones created when
/// missing, an anonymous one for each path the image declares that nothing else is mounted at, each filled with the
/// image's content there when it is empty), and its state keeps what it knows of the image and its volumes.
/// </summary>
internal static class ImageRoots
{
    public static async Task<Container> CreateAsync(
        ContainerRuntime runtime,
        ImageSpec made,
        ContainerSpec spec,
        OverlayRootfs root,
        LayeredFiles files,
        ContainerImage image,
        ImageContainerOptions overrides,
        VolumeStore volumes,
        bool keepOwners,
        string id,
        ContainerCreateOptions? options,
        bool run,
        CancellationToken cancellationToken)
    {
        if (options?.Overlay is not null)
        {
            throw new ArgumentException("a container made from an image takes its root from the image: leave ImageContainerOptions.Create.Overlay null", nameof(options));
        }

        spec = overrides.Configure?.Invoke(spec) ?? spec;
        spec = HostNetworkFiles.Add(spec, files);
        var named = overrides.Volumes.Select(v => (Mount: v, Destination: ImageSpec.VolumePath(v.Destination))).ToList();
        foreach (var mount in named)
        {
            VolumeStore.ValidateName(mount.Mount.Name);
        }

        using var held = await volumes.LockAsync(cancellationToken).ConfigureAwait(false);
        var used = new List<string>();
        var anonymous = new List<Volume>();
        try
        {
            foreach (var (mount, destination) in named)
            {
                var volume = await PopulateAsync(volumes, volumes.GetOrCreate(mount.Name), files, destination, keepOwners, cancellationToken).ConfigureAwait(false);
                spec = spec.WithBindMount(volume.Mountpoint, destination, mount.ReadOnly);
                used.Add(volume.Name);
            }

            foreach (var destination in made.Volumes)
            {
                if (spec.Mounts.Any(m => m.Destination.TrimEnd('/') == destination))
                {
                    continue;
                }

                var volume = volumes.CreateAnonymous();
                anonymous.Add(volume);
                volume = await PopulateAsync(volumes, volume, files, destination, keepOwners, cancellationToken).ConfigureAwait(false);
                spec = spec.WithBindMount(volume.Mountpoint, destination);
                used.Add(volume.Name);
            }

            // Compiled for the one use it gets: a run's plan or a create's, not both.
            var written = OwnNetworkFiles.For(spec);
            var prepared = runtime.PrepareCore(spec, (options ?? ContainerCreateOptions.Default) with { Overlay = root, RootFiles = written }, forRun: run);
            return await runtime.CreatePreparedAsync(
                id, prepared, cancellationToken, state => state with { Image = image, StopSignal = made.StopSignal, Volumes = used }, run).ConfigureAwait(false);
        }
        catch
        {
            foreach (var volume in anonymous)
            {
                volumes.Remove(volume.Name);
            }

            throw;
        }
    }

    /// <summary>
    /// Docker's rule: a volume that is empty and was never filled gets the image's content at its path. Without root,
    /// what a rootless store gave other owners under the caller's subordinate ids gets those owners in the volume too.
    /// </summary>
    private static async Task<Volume> PopulateAsync(VolumeStore volumes, Volume volume, LayeredFiles files, string destination, bool keepOwners, CancellationToken cancellationToken)
    {
        if (volume.Populated || Directory.EnumerateFileSystemEntries(volume.Mountpoint).Any())
        {
            return volume;
        }

        var ranges = keepOwners ? null : SubordinateIds.Current;
        var foreign = new List<FileOwner>();
        files.CopyDirectory(destination, volume.Mountpoint, keepOwners, ranges, foreign);
        if (ranges is not null && foreign.Count > 0)
        {
            await ForeignOwners.GiveAsync(volume.Mountpoint, foreign, ranges, cancellationToken).ConfigureAwait(false);
        }

        return volumes.MarkPopulated(volume);
    }
}
