namespace Containers.Spec;

/// <summary>
/// A device node to create in the container (<c>linux.devices[]</c>). Not applied by this runtime yet:
/// <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxDevice
{
    /// <summary>The absolute path of the node inside the container (<c>path</c>).</summary>
    public string Path { get; init => field = value ?? ""; } = "";

    /// <summary>The node type (<c>type</c>): <c>c</c>, <c>b</c>, <c>u</c> or <c>p</c>.</summary>
    public string Type { get; init => field = value ?? ""; } = "";

    /// <summary>The major number (<c>major</c>).</summary>
    public long Major { get; init; }

    /// <summary>The minor number (<c>minor</c>).</summary>
    public long Minor { get; init; }

    /// <summary>The permission bits (<c>fileMode</c>).</summary>
    public uint? FileMode { get; init; }

    /// <summary>The owner in the container (<c>uid</c>).</summary>
    public uint? Uid { get; init; }

    /// <summary>The group in the container (<c>gid</c>).</summary>
    public uint? Gid { get; init; }
}
