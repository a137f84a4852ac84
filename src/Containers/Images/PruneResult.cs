namespace Containers.Images;

/// <summary>What <see cref="ImageStore.PruneAsync"/> or <see cref="ImageStore.RemoveAsync(string, CancellationToken)"/> removed.</summary>
/// <param name="RemovedImages">The manifest digests of images that left the index.</param>
/// <param name="RemovedBlobs">How many blobs were deleted.</param>
/// <param name="RemovedSnapshots">How many snapshots were deleted.</param>
/// <param name="ReclaimedBytes">The bytes of deleted blobs.</param>
public sealed record PruneResult(IReadOnlyList<Digest> RemovedImages, int RemovedBlobs, int RemovedSnapshots, long ReclaimedBytes)
{
    /// <summary>
    /// How many index entries <see cref="ImageStore.PruneAsync"/> removed because they could not be read (malformed
    /// JSON, or a manifest or config that is missing or corrupt). <see cref="ImageStore.ListAsync"/> skips such entries.
    /// </summary>
    public int RemovedDamagedEntries { get; init; }
}
