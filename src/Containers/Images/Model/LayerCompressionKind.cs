namespace Containers.Images.Model;

/// <summary>How a layer blob is compressed, as its media type says.</summary>
internal enum LayerCompressionKind
{
    /// <summary>A plain tar stream.</summary>
    None,

    /// <summary>A gzip-compressed tar stream.</summary>
    Gzip,

    /// <summary>A zstd-compressed tar stream.</summary>
    Zstd,
}
