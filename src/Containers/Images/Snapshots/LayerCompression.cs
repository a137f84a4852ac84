namespace Containers.Images.Snapshots;

/// <summary>How a layer blob is compressed (from its media type: <c>tar</c>, <c>tar+gzip</c>, <c>tar+zstd</c>).</summary>
internal enum LayerCompression
{
    /// <summary>A plain tar stream.</summary>
    None,

    /// <summary>gzip (RFC 1952), possibly several concatenated members.</summary>
    Gzip,

    /// <summary>Zstandard frames.</summary>
    Zstd,
}
