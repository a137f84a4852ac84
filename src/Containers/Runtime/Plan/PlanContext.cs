using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// What the plan steps share while they compile one container start: the input (the container's spec, the process
/// to run, the host's facts), the builder the steps append ops to, and what earlier steps decided for later ones
/// (the namespaces, the user namespace's maps, where the container's files are). A step reads the fields earlier
/// steps set and sets its own; it never does I/O other than through <see cref="Host"/>.
/// </summary>
internal sealed class PlanContext
{
    public PlanContext(ContainerSpec spec, ProcessSpec process, IHostView host, PlanSettings settings)
    {
        Spec = spec;
        Linux = spec.Linux ?? new LinuxSpec();
        Process = process;
        Host = host;
        Settings = settings;
    }

    /// <summary>The container's spec (for an exec, the running container's).</summary>
    public ContainerSpec Spec { get; }

    /// <summary>The spec's <c>linux</c> section, empty when it has none.</summary>
    public LinuxSpec Linux { get; }

    /// <summary>The process to run: the spec's own, or an exec's.</summary>
    public ProcessSpec Process { get; }

    /// <summary>The host's facts.</summary>
    public IHostView Host { get; }

    /// <summary>How the start is wired beyond the spec (stdio, init, where the root is assembled).</summary>
    public PlanSettings Settings { get; }

    /// <summary>The plan being built; steps append their ops in pipeline order.</summary>
    public PlanBuilder Plan { get; } = new();

    /// <summary>What the launcher supplies in each imported fd slot, in slot order; a step adds one per <see cref="PlanBuilder.ImportFd"/>.</summary>
    public List<FdSource> Fds { get; } = [];

    /// <summary>The new namespaces the child is cloned into (set by the namespaces step).</summary>
    public CloneFlags NewNamespaces { get; set; }

    /// <summary>Whether the cgroup step made the new cgroup namespace after joining the v1 cgroups, so the clone must not (set by the cgroup step).</summary>
    public bool CgroupNamespaceMade { get; set; }

    /// <summary>Whether the new network namespace is one the launcher supplies from its pool (set by the namespaces step).</summary>
    public bool UsesPooledNetwork { get; set; }

    /// <summary>Whether the process ends up in a user namespace other than the host's, new or joined.</summary>
    public bool InUserNamespace { get; set; }

    /// <summary>The maps to write for a new user namespace, or null without one.</summary>
    public UserNamespaceMapping? Mapping { get; set; }

    /// <summary>Whether the process may call setgroups (false in a user namespace whose gid map an unprivileged caller wrote itself).</summary>
    public bool SetGroupsAllowed { get; set; } = true;

    /// <summary>
    /// Where the container's files are on the host, for looking the program up (set by the root filesystem and mount
    /// steps, or the join step); null when they cannot be seen from here, and the child's execve reports instead.
    /// </summary>
    public ContainerFiles? Files { get; set; } = ContainerFiles.Empty;

    /// <summary>Whether the steps assemble a root of the container's own (a new mount namespace): only then do they create or mount anything.</summary>
    public bool OwnsRoot => NewNamespaces.HasFlag(CloneFlags.NewNs);

    /// <summary>
    /// Whether the child waits for the launcher to place it (join its v1 cgroups, set its oom_score_adj) and continue
    /// it: a start that does not wait for a start byte, where that must happen before exec.
    /// </summary>
    public bool WaitsToBePlaced { get; set; }

    /// <summary>Whether that wait is the last op before exec (<see cref="ExecStep"/>), rather than one the cgroup step put first.</summary>
    public bool PlacementWaitsForExec { get; set; }

    /// <summary>Whether the process gets a pseudo-terminal.</summary>
    public bool Terminal => Process.Terminal;

    /// <summary>The compiled result.</summary>
    public ContainerPlan Build() =>
        new(Plan.Build(), [.. Fds], Mapping, Terminal, Settings.WaitsForStart, Settings.SeccompNotify, Settings.Cgroup) { UsesPooledNetwork = UsesPooledNetwork, WaitsToBePlaced = WaitsToBePlaced };
}
