namespace Containers.Images.Layers;

/// <summary>What applying one layer measured.</summary>
/// <param name="DiffId">sha256 of the uncompressed tar stream.</param>
/// <param name="UncompressedSize">Bytes of the uncompressed tar stream.</param>
/// <param name="CompressedSize">Bytes read from the blob.</param>
/// <param name="Entries">Tar entries applied.</param>
/// <param name="Owners">The owners left to give (<see cref="LayerApplier.Owners"/>).</param>
internal sealed record LayerUnpackResult(Digest DiffId, long UncompressedSize, long CompressedSize, long Entries, IReadOnlyCollection<Linux.FileOwner> Owners);
