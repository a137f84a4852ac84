using Containers.Images.Snapshots;

namespace Containers.Images.Model;

/// <summary>The media types of OCI and Docker schema2 image documents and layers.</summary>
internal static class MediaTypes
{
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";

    /// <summary>OCI uncompressed layer.</summary>
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";

    /// <summary>OCI gzip layer.</summary>
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// <summary>OCI zstd layer.</summary>
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

    /// <summary>OCI non-distributable uncompressed layer (deprecated, still read).</summary>
    public const string OciNondistributableLayer = "application/vnd.oci.image.layer.nondistributable.v1.tar";

    /// <summary>OCI non-distributable gzip layer (deprecated, still read).</summary>
    public const string OciNondistributableLayerGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

    /// <summary>OCI non-distributable zstd layer (deprecated, still read).</summary>
    public const string OciNondistributableLayerZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

    /// <summary>Docker schema2 manifest list (the Docker form of an index).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>Docker schema2 manifest.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>Docker image config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    /// <summary>Docker gzip layer.</summary>
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>Docker uncompressed layer (as in <c>docker save</c> archives).</summary>
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";

    /// <summary>Docker foreign (non-distributable) gzip layer.</summary>
    public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// <summary>True for an OCI index or a Docker manifest list.</summary>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for an OCI or Docker schema2 manifest.</summary>
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for an OCI or Docker image config.</summary>
    public static bool IsConfig(string? mediaType) => mediaType is OciConfig or DockerConfig;

    /// <summary>
    /// The compression of a layer media type, or null when <paramref name="mediaType"/> is not a layer type this
    /// library can apply.
    /// </summary>
    public static LayerCompression? LayerCompressionOf(string? mediaType) => mediaType switch
    {
        OciLayer or OciNondistributableLayer or DockerLayer => LayerCompression.None,
        OciLayerGzip or OciNondistributableLayerGzip or DockerLayerGzip or DockerForeignLayerGzip => LayerCompression.Gzip,
        OciLayerZstd or OciNondistributableLayerZstd => LayerCompression.Zstd,
        _ => null,
    };
}
