namespace Containers.Images;

/// <summary>How a committed layer is compressed (<see cref="CommitOptions.Compression"/>).</summary>
public enum LayerCompressionFormat
{
    /// <summary>gzip (<c>tar+gzip</c>), compressed on all cores as independent members: what every registry and runtime reads.</summary>
    Gzip,

    /// <summary>
    /// Zstandard (<c>application/vnd.oci.image.layer.v1.tar+zstd</c>), with the system's libzstd on its own threads:
    /// faster to write and to read; an OCI image only (Docker's manifest format has no zstd layer type).
    /// </summary>
    Zstd,
}
