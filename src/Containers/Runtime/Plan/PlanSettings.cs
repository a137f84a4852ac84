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
/// <param name="PooledNetwork">
/// Whether a new network namespace is joined from an fd the launcher supplies (<see cref="FdKind.PooledNetwork"/>)
/// instead of cloned, where the child can join one its parent made (no new user namespace).
/// </param>
/// <param name="SeccompNotify">What answers the calls a seccomp rule with <c>SCMP_ACT_NOTIFY</c> stops, or null.</param>
/// <param name="Overlay">A copy-on-write root of lower directories; its upper and work directories are in the container's directory, an imported fd.</param>
/// <param name="Cgroup">How the process gets into the container's cgroup.</param>
/// <param name="CgroupHierarchies">For <see cref="CgroupPlacement.JoinsItself"/>: the v1 hierarchies the child joins, in order.</param>
/// <param name="Secrets">Files for <c>/run/secrets</c>, or null for none.</param>
/// <param name="RootFiles">Files written into the root before <c>pivot_root</c> (<see cref="RootFilesStep"/>), or null for none.</param>
/// <param name="RootOnly">
/// Whether the child only sets up the root and waits, never running a program (a stopped container's root mounted
/// for a copy): no lookup, no exec; the wait ends only when the launcher lets it go or kills it.
/// </param>
internal sealed record PlanSettings(ContainerStdio Stdio, bool Init, bool WaitsForStart, string RootMountPoint, int? ContainerPid = null, bool PooledNetwork = false,
    Containers.Security.Seccomp.SeccompNotifyHandler? SeccompNotify = null, OverlayRootfs? Overlay = null, CgroupPlacement Cgroup = CgroupPlacement.None,
    IReadOnlyList<ContainerSecret>? Secrets = null, bool RootOnly = false, IReadOnlyList<string>? CgroupHierarchies = null,
    IReadOnlyList<RootFile>? RootFiles = null);

/// <summary>How a started process gets into its container's cgroup.</summary>
internal enum CgroupPlacement
{
    /// <summary>The container has no cgroup of its own.</summary>
    None,

    /// <summary>cgroup v2: <c>clone3(CLONE_INTO_CGROUP)</c> with the cgroup's directory fd; it never runs outside.</summary>
    CloneInto,

    /// <summary>
    /// cgroup v1: the child's first steps write <c>0</c> to each hierarchy's <c>tasks</c> file (fds the launcher
    /// opened), moving itself in. Written by the launcher, the child's pid would take the kernel's global
    /// threadgroup lock, whose RCU grace period cost a start 5–20 ms on an idle host; a thread moving itself skips it.
    /// </summary>
    JoinsItself,
}
