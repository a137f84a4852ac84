namespace Containers.Images;

/// <summary>The on-disk forms an image can be imported from and exported to.</summary>
public enum ImageArchiveFormat
{
    /// <summary>An OCI image layout directory (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/</c>).</summary>
    OciLayout,

    /// <summary>A tar of an OCI image layout (<c>oci-archive</c>, as skopeo and podman write it).</summary>
    OciArchive,

    /// <summary>A <c>docker save</c> tar: <c>manifest.json</c>, <c>repositories</c>, configs and layer tars.</summary>
    DockerArchive,
}
