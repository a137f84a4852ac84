using System.Text.Json;
using Containers.Images.Model;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;

namespace Containers.Images;

/// <summary>
/// Leases: a container that uses an image holds one from its creation until its deletion, so garbage collection
/// keeps the image's content and removal refuses (or only untags). A lease is a file <c>leases/NAME.json</c>
/// naming the image and the container's own directory (its holder). It is written under the shared ingest lock
/// that removal and garbage collection take exclusively, so no collection runs between a container finding its
/// snapshots and its lease protecting them. A lease whose holder directory has gone (a container removed by hand,
/// or a crash) protects nothing and is deleted by the next collection.
/// </summary>
public sealed partial class ImageStore
{
    private string LeaseDirectory => Path.Combine(Root, "leases");

    /// <summary>The lease file a container whose own directory is <paramref name="holder"/> holds (taken or not yet).</summary>
    internal string LeasePathFor(string holder) => Path.Combine(LeaseDirectory, Path.GetFileName(holder.TrimEnd('/')) + ".json");

    /// <summary>
    /// Takes a lease on <paramref name="image"/> for the container whose own directory is <paramref name="holder"/>
    /// (it must exist), applying any snapshot of the image that is missing. Returns the lease file
    /// (<see cref="LeasePathFor"/>); deleting it ends the lease.
    /// </summary>
    /// <param name="image">The image's manifest digest.</param>
    /// <param name="expected">
    /// What the caller already resolved, when it did (a prepared container): the image's config digest and snapshot
    /// directories. When the manifest and config blobs and every one of these directories are still there, nothing
    /// is read or applied: a later collection marks the image from the lease (manifest, config, chain), so these
    /// are exactly what it keeps. Otherwise the image is looked up again as without them.
    /// </param>
    /// <param name="holder">The container's own directory.</param>
    /// <param name="cancellationToken">Cancels the wait for the lock and the look-up.</param>
    /// <exception cref="ImageNotFoundException">The image is no longer in the store.</exception>
    internal async Task<string> LeaseAsync(Digest image, (Digest Config, IReadOnlyList<string> Snapshots)? expected, string holder, CancellationToken cancellationToken)
    {
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        // Under the shared ingest lock no collection runs (it takes the lock exclusively), so what is checked here
        // stays until the lease is written.
        if (!(expected is { } known && _content.Exists(image) && _content.Exists(known.Config) && known.Snapshots.All(Directory.Exists)))
        {
            var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
            var (found, _) = await FindAsync(index, image.ToString(), cancellationToken).ConfigureAwait(false);
            await ApplyLayersAsync(found.Manifest, found.Config, _content.BlobPath, progress: null, cancellationToken).ConfigureAwait(false);
        }

        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the image store needs Linux");
        }

        Directory.CreateDirectory(LeaseDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = LeasePathFor(holder);
        var temporary = path + ".tmp";
        // Written synchronously: one small file, on every container's creation.
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(new ImageLease(image, holder), ImageJsonContext.Default.ImageLease));
        File.Move(temporary, path, overwrite: true);
        _logger.LogDebug("lease on {Image} taken for {Holder}", image, holder);
        return path;
    }

    /// <summary>The leases whose holders still exist; the others are deleted on the way.</summary>
    private List<ImageLease> LiveLeases()
    {
        var live = new List<ImageLease>();
        if (!Directory.Exists(LeaseDirectory))
        {
            return live;
        }

        foreach (var file in Directory.EnumerateFiles(LeaseDirectory, "*.json"))
        {
            ImageLease? lease;
            try
            {
                lease = JsonSerializer.Deserialize(File.ReadAllBytes(file), ImageJsonContext.Default.ImageLease);
            }
            catch (Exception e) when (e is JsonException or FileNotFoundException)
            {
                // Half a lease cannot exist (written by rename); an unreadable one protects nothing.
                lease = null;
            }

            if (lease is not null && Directory.Exists(lease.Holder))
            {
                live.Add(lease);
            }
            else
            {
                _logger.LogInformation("removing the lease {Lease}: its container no longer exists", file);
                File.Delete(file);
            }
        }

        return live;
    }
}
