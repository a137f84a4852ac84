namespace Containers.Runtime.Plan;

/// <summary>How a start is wired beyond what the spec says.</summary>
/// <param name="Stdio">Where stdio goes when the process has no terminal.</param>
/// <param name="Init">Whether an init runs as pid 1 with the program as its child.</param>
/// <param name="WaitsForStart">Whether the child waits for a start byte before exec (the OCI created state).</param>
/// <param name="RootMountPoint">
/// An empty host directory the host rootfs's tmpfs is mounted on in the child's mount namespace (where it hides
/// nothing a mount of the spec might bind from the host).
/// </param>
/// <param name="ContainerPid">For an exec: the host pid of the running container's first process.</param>
/// <param name="Cgroup">How the process gets into the container's cgroup.</param>
internal sealed record PlanSettings(
    ContainerStdio Stdio, bool Init, bool WaitsForStart, string RootMountPoint, int? ContainerPid = null, CgroupPlacement Cgroup = CgroupPlacement.None);

/// <summary>How a started process gets into its container's cgroup.</summary>
internal enum CgroupPlacement
{
    /// <summary>The container has no cgroup of its own.</summary>
    None,

    /// <summary>cgroup v2: <c>clone3(CLONE_INTO_CGROUP)</c> with the cgroup's directory fd; it never runs outside.</summary>
    CloneInto,

    /// <summary>cgroup v1: the launcher writes its pid to each hierarchy's <c>cgroup.procs</c> while it waits, before exec.</summary>
    JoinWhileWaiting,
}
