using Containers.Images.Model;
using Containers.Images.Snapshots;
using Containers.Images.Store;

namespace Containers.Images;

/// <summary>
/// The entry points the registry client uses to write into the store: it streams verified blobs into the content
/// store itself, applies layers as they arrive, and records the image in the index last, so a pull that fails leaves
/// no tag behind (verified blobs and complete snapshots may stay; garbage collection removes what nothing reaches).
/// </summary>
public sealed partial class ImageStore
{
    /// <summary>The blobs of the store.</summary>
    internal ContentStore Content => _content;

    /// <summary>
    /// Holds the shared ingest lock for the lifetime of the returned lock, so that garbage collection (which takes it
    /// exclusively) cannot sweep blobs that a transfer has published but no index entry reaches yet.
    /// </summary>
    internal Task<FileLock> HoldIngestAsync(CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken);

    /// <summary>True when the snapshot of <paramref name="chainId"/> exists.</summary>
    internal bool HasSnapshot(Digest chainId) => _snapshots.Exists(chainId);

    /// <summary>
    /// Applies a layer into the snapshot of <paramref name="chainId"/> unless it exists, reading the blob from
    /// <paramref name="openBlob"/> (a download as it streams in). The snapshot is published only once the diff id
    /// matched and <paramref name="proven"/> completed (the blob's digest was verified); otherwise it is discarded.
    /// </summary>
    internal async Task EnsureSnapshotAsync(Digest chainId, Digest diffId, Func<CancellationToken, Task<Stream>> openBlob, LayerCompression compression, Func<CancellationToken, Task> proven, IProgress<long>? progress, CancellationToken cancellationToken) =>
        await _snapshots.EnsureAppliedAsync(chainId, diffId, openBlob, compression, proven, progress, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Records a manifest whose blobs are all in the store as an image, tagged <paramref name="name"/> when given (an
    /// image that had that name loses it), and returns it.
    /// </summary>
    internal async Task<Image> RecordAsync(Descriptor manifest, ImageReference? name, Platform? platform, CancellationToken cancellationToken)
    {
        await UpdateIndexAsync(
            index =>
            {
                var entries = index.Manifests.ToList();
                if (name is null)
                {
                    if (!entries.Any(e => e.Digest == manifest.Digest))
                    {
                        entries.Add(LayoutIndex.Entry(manifest, null, platform));
                    }
                }
                else
                {
                    entries.RemoveAll(e => LayoutIndex.NameOf(e) == name);
                    entries.Add(LayoutIndex.Entry(manifest, name, platform));
                }

                return entries;
            },
            cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(index, manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds an image as <see cref="ResolveAsync"/> does and also returns the name it was found by, if any.</summary>
    internal async Task<(Image Image, ImageReference? Name)> FindWithNameAsync(string reference, CancellationToken cancellationToken)
    {
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        return await FindAsync(index, reference, cancellationToken).ConfigureAwait(false);
    }
}
