namespace Containers.Spec;

/// <summary>The network a container sees, for <see cref="ContainerSpec.WithNetwork(NetworkMode)"/>.</summary>
public enum NetworkMode
{
    /// <summary>A new network namespace with only the loopback interface: no traffic leaves the container.</summary>
    None,

    /// <summary>The host's network namespace: the container sees and uses the host's interfaces and ports.</summary>
    Host,
}
