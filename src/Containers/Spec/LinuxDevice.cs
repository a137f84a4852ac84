namespace Containers.Spec;

/// <summary>
/// A device node created in the container (<c>linux.devices[]</c>), by <c>mknod</c> after the mounts: its parent
/// directories are made when missing. The node alone grants nothing: the device cgroup decides which devices the
/// container may open (<see cref="ContainerSpec.WithDevice"/> adds both). Refused in a user namespace, where the
/// kernel does not let a node be made.
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

    /// <summary>The permission bits (<c>fileMode</c>); 0666 when null.</summary>
    public uint? FileMode { get; init; }

    /// <summary>The owner in the container (<c>uid</c>); 0 when null.</summary>
    public uint? Uid { get; init; }

    /// <summary>The group in the container (<c>gid</c>); 0 when null.</summary>
    public uint? Gid { get; init; }
}
