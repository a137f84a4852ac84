using System.Collections.Concurrent;
using Containers.Images.Commit;
using Containers.Linux;

namespace Containers.Runtime;

/// <summary>How much disk a container's root takes.</summary>
public sealed partial class Container
{
    // A snapshot of an image never changes once it is published, and its path names its content (the chain id), so
    // its size is counted once per process: a listing of many containers of one image walks the image once.
    private static readonly ConcurrentDictionary<string, long> SnapshotSizes = new(StringComparer.Ordinal);

    /// <summary>
    /// Counts the bytes in the container's root filesystem as Docker counts them for <c>docker ps -s</c>: the sizes of
    /// everything but directories (a file with several hard links once), in its writable layer and in all of its root.
    /// The <c>/etc/hosts</c> and <c>/etc/hostname</c> the runtime wrote into an image's container are left out, as
    /// a commit leaves them out.
    /// It reads every file's metadata, so it takes time in proportion to the number of files; a running container's
    /// files are counted as they are met.
    /// </summary>
    /// <param name="cancellationToken">Cancels the count between two directories.</param>
    /// <returns>
    /// The sizes; null when the container has no writable layer of its own: its root is the host's
    /// (<see cref="ContainerCreateOptions.Overlay"/> not set) or a directory used in place, whose changes are the
    /// directory's own and cannot be told from what was there; or its layer is not made yet (it is being created).
    /// </returns>
    /// <exception cref="IOException">A file of the root cannot be inspected.</exception>
    /// <exception cref="UnauthorizedAccessException">A directory of the root cannot be read (a rootless caller and a directory that belongs to another id of the container's).</exception>
    /// <example>
    /// <code>
    /// var usage = container.MeasureDiskUsage(ct); // WritableLayer = 12, RootFilesystem = 4_261_012
    /// </code>
    /// </example>
    public ContainerDiskUsage? MeasureDiskUsage(CancellationToken cancellationToken = default)
    {
        var state = State;
        if (state.ContainerDirectory is not { } directory || state.LowerDirectories is not { } lower)
        {
            return null;
        }

        var upper = Path.Combine(directory, Plan.RootfsStep.UpperDirectory);
        if (!Directory.Exists(upper))
        {
            return null;
        }

        // Without root, what the container's users or the image's layers gave other owners is opened in a user
        // namespace that maps them: the container's own mappings for its layer, the store's ranges for a snapshot.
        var rootless = !Environment.IsPrivilegedProcess;
        var writable = DiskUsage.Of(upper, rootless ? new UserNamespaceOpener(upper, state.UidMappings, state.GidMappings) : null, cancellationToken);
        if (state.Image is not null)
        {
            // The /etc/hosts and /etc/hostname the runtime wrote are not the container's, as Docker's are in no layer.
            writable -= MountPoints.Bytes(upper, Images.OwnNetworkFiles.Paths(Spec));
        }

        var root = writable;
        foreach (var layer in lower)
        {
            // Only an image's lower directories are its snapshots; a directory used copy-on-write may change.
            root += state.Image is null
                ? DiskUsage.Of(layer, null, cancellationToken)
                : SnapshotSizes.GetOrAdd(layer, l => DiskUsage.Of(l, rootless && SubordinateIds.Current is { } ids ? UserNamespaceOpener.ForLayers([l], ids) : null, cancellationToken));
        }

        return new ContainerDiskUsage(writable, root);
    }
}
