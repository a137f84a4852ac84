namespace Containers.Images.Snapshots;

/// <summary>How a <see cref="SnapshotStore"/> writes snapshots and which layers it refuses as too large.</summary>
internal sealed record SnapshotStoreOptions
{
    /// <summary>
    /// Write the store as an unprivileged user would (default: true unless the process runs as root): files are owned
    /// by the caller and their owner from the layer is kept in the <c>user.rootlesscontainers</c> xattr, device nodes
    /// become empty files, and opaque directories use <c>user.overlay.opaque</c> (mount the overlay with
    /// <c>userxattr</c>).
    /// </summary>
    public bool Rootless { get; init; } = Linux.LibC.geteuid() != 0;

    /// <summary>The largest uncompressed layer accepted, in bytes (default 64 GiB).</summary>
    public long MaxLayerSize { get; init; } = 64L << 30;

    /// <summary>
    /// The largest ratio of uncompressed to compressed size accepted once a layer exceeds
    /// <see cref="RatioCheckThreshold"/> bytes (default 1000; real layers stay well under 50).
    /// </summary>
    public double MaxCompressionRatio { get; init; } = 1000;

    /// <summary>Uncompressed bytes after which <see cref="MaxCompressionRatio"/> applies (default 64 MiB).</summary>
    public long RatioCheckThreshold { get; init; } = 64L << 20;
}
