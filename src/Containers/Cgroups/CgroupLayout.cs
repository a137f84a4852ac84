namespace Containers.Cgroups;

/// <summary>How the host mounts its cgroup hierarchies under <c>/sys/fs/cgroup</c>.</summary>
public enum CgroupLayout
{
    /// <summary>One cgroup2 hierarchy holds every controller (<c>/sys/fs/cgroup</c> is cgroup2).</summary>
    Unified,

    /// <summary>v1 hierarchies per controller, plus a cgroup2 mount at <c>/sys/fs/cgroup/unified</c> without the resource controllers.</summary>
    Hybrid,

    /// <summary>v1 hierarchies per controller only.</summary>
    Legacy,
}
