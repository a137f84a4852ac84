namespace Containers.Images.Model;

/// <summary>The pre-defined annotation keys this library reads and writes.</summary>
internal static class AnnotationKeys
{
    /// <summary>The name of a reference in an OCI layout's <c>index.json</c>; the store's tags.</summary>
    public const string RefName = "org.opencontainers.image.ref.name";

    /// <summary>containerd's annotation for the full image name in exported layouts.</summary>
    public const string ContainerdImageName = "io.containerd.image.name";

    /// <summary>The date and time the image was created (RFC 3339).</summary>
    public const string Created = "org.opencontainers.image.created";
}
