namespace Containers.Distribution;

/// <summary>
/// Progress of a pull or push: one blob's bytes and the bytes of the whole transfer. Reports come from several
/// threads at once (blobs transfer in parallel); an <see cref="IProgress{T}"/> given to the client must be thread-safe.
/// </summary>
/// <param name="Phase">What is happening to <paramref name="Item"/>.</param>
/// <param name="Item">The blob's digest.</param>
/// <param name="Completed">Bytes of <paramref name="Item"/> done in this phase.</param>
/// <param name="Total">Bytes of <paramref name="Item"/>.</param>
/// <param name="TransferredBytes">Bytes downloaded or uploaded so far in the whole operation.</param>
/// <param name="TotalBytes">Bytes the whole operation transfers (blobs that already exist excluded).</param>
public readonly record struct TransferProgress(TransferPhase Phase, string Item, long Completed, long Total, long TransferredBytes, long TotalBytes);
