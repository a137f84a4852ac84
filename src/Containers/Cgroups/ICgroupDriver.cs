using Containers.Spec;

namespace Containers.Cgroups;

/// <summary>
/// One cgroup version's way of placing containers in cgroups: <see cref="V1.V1Driver"/> (a hierarchy per
/// controller) or <see cref="V2.V2Driver"/> (one unified hierarchy), chosen by <see cref="CgroupDriver.Detect"/>.
/// Containers' cgroups go below <see cref="Parent"/>; nothing is ever written to a hierarchy's root.
/// </summary>
internal interface ICgroupDriver
{
    /// <summary>The host's layout this driver serves.</summary>
    CgroupLayout Layout { get; }

    /// <summary>Whether a process is started inside its cgroup by <c>clone3(CLONE_INTO_CGROUP)</c> (v2) rather than moving itself into each hierarchy (v1).</summary>
    bool ClonesIntoCgroup { get; }

    /// <summary>The v1 hierarchies a container's cgroup spans (the keys of its <see cref="ICgroup.Paths"/>), which its process joins itself; empty on v2.</summary>
    IReadOnlyList<string> Hierarchies { get; }

    /// <summary>The parent cgroup of every container, relative to each hierarchy's root.</summary>
    string Parent { get; }

    /// <summary>
    /// Checks, before anything is created, that this host can enforce <paramref name="resources"/>: each controller
    /// the limits need is mounted (v1) or enabled (v2), devices and CPUs exist.
    /// </summary>
    /// <exception cref="CgroupException">A limit cannot be enforced here; it names the field.</exception>
    void Validate(LinuxResources resources);

    /// <summary>Creates the cgroup <paramref name="name"/> below <see cref="Parent"/> with <paramref name="resources"/> applied; on failure nothing is left.</summary>
    /// <exception cref="CgroupException">Creating it or writing a limit failed.</exception>
    ICgroup Create(string name, LinuxResources resources);

    /// <summary>Opens a container's existing cgroup from the directories its state recorded.</summary>
    ICgroup Open(IReadOnlyDictionary<string, string> paths);

    /// <summary>
    /// Readies a released container's cgroup for another container, under the new name <paramref name="name"/>, so that
    /// it reads as a new cgroup does (v1 renames the directories that can be renewed and makes the others again); null
    /// when it cannot be (v2, whose counters cannot be zeroed, or processes left): the caller removes it.
    /// </summary>
    /// <exception cref="CgroupException">Renaming or making a directory failed; what was made is removed.</exception>
    ICgroup? Recycle(ICgroup used, string name);

    /// <summary>Removes the empty cgroups below <see cref="Parent"/> whose container <paramref name="isLive"/> does not know; returns how many.</summary>
    int RemoveStale(Func<string, bool> isLive);

    /// <summary>Removes <see cref="Parent"/> if no container is left in it (when the runtime is disposed).</summary>
    void RemoveEmptyParent();
}
