namespace Containers.Runtime;

/// <summary>Annotations (<c>annotations</c> in the spec) this runtime gives a meaning to.</summary>
public static class ContainerAnnotations
{
    /// <summary>
    /// <c>"true"</c> makes the host rootfs (a spec whose <c>root</c> is null) read-only: the tmpfs that holds the
    /// host's read-only binds gets no writes either. A directory rootfs uses <c>root.readonly</c> instead.
    /// </summary>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh").WithAnnotation(ContainerAnnotations.ReadOnlyHostRootfs, "true");
    /// </code>
    /// </example>
    public const string ReadOnlyHostRootfs = "net.containers.rootfs.readonly";
}
