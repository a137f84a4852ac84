namespace Containers.Spec;

/// <summary>The priority of the container's traffic on one interface (<c>linux.resources.network.priorities[]</c>).</summary>
public sealed record LinuxInterfacePriority
{
    /// <summary>The interface name (<c>name</c>).</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>The priority (<c>priority</c>).</summary>
    public uint Priority { get; init; }
}
