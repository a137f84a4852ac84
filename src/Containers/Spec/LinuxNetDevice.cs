namespace Containers.Spec;

/// <summary>
/// A host network device moved into the container's network namespace (a value of <c>linux.netDevices</c>, keyed by
/// its host name). Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxNetDevice
{
    /// <summary>The device's name inside the container (<c>name</c>), or null to keep its host name.</summary>
    public string? Name { get; init; }
}
