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

    /// <summary>
    /// Rootless only: the caller's subordinate ranges (default: <see cref="Linux.SubordinateIds.Current"/>). Owners
    /// they hold become the files' real owners under those ids, given in a user namespace that maps them as a rootless
    /// container does, so files inside show the layer's owners; the xattr records only the others. Null keeps every
    /// owner in the xattr.
    /// </summary>
    public Linux.SubordinateIds? SubordinateIds { get; init; } = Linux.SubordinateIds.Current;

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
