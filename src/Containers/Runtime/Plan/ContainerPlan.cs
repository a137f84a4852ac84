using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// A compiled container start: the plan the child runs between clone and exec, plus what the launcher supplies
/// (fds, the user namespace's maps). <see cref="Compile"/> and <see cref="CompileExec"/> run the steps of
/// <see cref="CreateSteps"/> and <see cref="ExecSteps"/>: each step turns one concern of the spec into ops, in order,
/// reading the host only through <see cref="IHostView"/>. To add a concern (cgroups, capabilities, seccomp), write
/// a step and put it in the list where its ops must run; docs/start-path.md lists the steps and their order.
/// </summary>
internal sealed class ContainerPlan
{
    private Lazy<ContainerPlan>? _withoutPooledNetwork;

    /// <summary>The steps of a container's first process, in the order their ops run.</summary>
    internal static readonly IReadOnlyList<PlanStep> CreateSteps =
    [
        CgroupStep.Apply,      // into the container's cgroup: cloned into it (v2), or joined by the child itself (v1)
        NamespacesStep.Apply,  // clone flags, user namespace maps, joined namespaces, loopback, hostname
        RootfsStep.Apply,      // the root: the host rootfs on a tmpfs, a directory bound onto itself, or an overlay
        MountsStep.Apply,      // the spec's mounts, /dev's nodes, masked and read-only paths
        DevicesStep.Apply,     // the spec's device nodes (linux.devices)
        SecretsStep.Apply,     // the secrets' read-only tmpfs at /run/secrets
        RootFilesStep.Apply,   // files the runtime writes into the root (an image's container's /etc/hosts)
        EnterRootStep.Apply,   // the working directory, pivot_root, a read-only root
        ProcessStep.Apply,     // rlimits, stdio, ids, working directory, no_new_privs
        CapabilitiesStep.Apply, // the capability sets (the container's, or Docker's default set)
        SeccompStep.Apply,     // the seccomp filter, loaded last
        ExecStep.Apply,        // the program looked up, fds closed, the start wait, the init, execve
    ];

    /// <summary>The steps of a process started in a running container: join it, then the same process steps.</summary>
    internal static readonly IReadOnlyList<PlanStep> ExecSteps =
    [
        CgroupStep.Apply,
        JoinStep.Apply,
        ProcessStep.Apply,
        CapabilitiesStep.Apply,
        SeccompStep.Apply,
        ExecStep.Apply,
    ];

    internal ContainerPlan(Linux.Plan plan, IReadOnlyList<FdSource> fds, UserNamespaceMapping? mapping, bool terminal, bool waitsForStart,
        Security.Seccomp.SeccompNotifyHandler? seccompNotify = null, CgroupPlacement cgroup = CgroupPlacement.None)
    {
        SeccompNotify = seccompNotify;
        Cgroup = cgroup;
        Plan = plan;
        Fds = fds;
        Mapping = mapping;
        Terminal = terminal;
        WaitsForStart = waitsForStart;
    }

    public Linux.Plan Plan { get; }

    /// <summary>What to supply in each imported slot, in slot order (slot 1 first).</summary>
    public IReadOnlyList<FdSource> Fds { get; }

    /// <summary>The maps to write for a new user namespace while the child waits, or null without one.</summary>
    public UserNamespaceMapping? Mapping { get; }

    /// <summary>Whether the process gets a pseudo-terminal whose master comes back over a socket.</summary>
    public bool Terminal { get; }

    /// <summary>Whether the child waits for a start byte before exec (the OCI created state).</summary>
    public bool WaitsForStart { get; }

    /// <summary>
    /// Whether the child waits (last before exec, or first when it forks into a joined pid namespace) for the launcher
    /// to set its oom_score_adj when it does not wait for a start.
    /// </summary>
    public bool WaitsToBePlaced { get; init; }

    /// <summary>How the process gets into its container's cgroup.</summary>
    public CgroupPlacement Cgroup { get; }

    /// <summary>What answers the seccomp filter's notifications, when the plan imports a listener socket.</summary>
    public Security.Seccomp.SeccompNotifyHandler? SeccompNotify { get; }

    /// <summary>Whether the plan joins a network namespace from the launcher's pool (an <see cref="FdKind.PooledNetwork"/> slot).</summary>
    public bool UsesPooledNetwork { get; init; }

    /// <summary>
    /// For a plan that joins a pooled network namespace (<see cref="UsesPooledNetwork"/>): the same start cloning its
    /// own network namespace, for when the pool has none ready. Compiled on first use: with the pool filled ahead,
    /// most starts never need it, and a compilation per start is what a run without <c>Prepare</c> pays.
    /// </summary>
    public ContainerPlan WithoutPooledNetwork =>
        _withoutPooledNetwork?.Value ?? throw new InvalidOperationException("only a plan that joins a pooled network namespace has a variant without it");

    /// <summary>Whether <see cref="WithoutPooledNetwork"/> has been compiled.</summary>
    internal bool WithoutPooledNetworkCompiled => _withoutPooledNetwork is { IsValueCreated: true };

    /// <summary>
    /// Compiles a container's first process from <paramref name="spec"/> (already validated). The host rootfs's
    /// tmpfs goes on <paramref name="rootMountPoint"/>, an empty directory the same for every start, so the plan can
    /// be launched any number of times.
    /// </summary>
    /// <exception cref="RootfsNotFoundException">The root filesystem directory does not exist.</exception>
    /// <exception cref="ExecutableNotFoundException">The program is not in the root filesystem.</exception>
    /// <exception cref="NotExecutableException">The program is a directory or has no execute permission.</exception>
    /// <param name="spec">The validated spec.</param>
    /// <param name="options">Stdio, init, seccomp handler, overlay.</param>
    /// <param name="rootMountPoint">Where the host rootfs's tmpfs goes in the child's mount namespace.</param>
    /// <param name="host">The host's facts.</param>
    /// <param name="pooledNetwork">
    /// Join a network namespace from the launcher's pool where the spec allows it, with <see cref="WithoutPooledNetwork"/>
    /// for when the pool is empty.
    /// </param>
    /// <param name="cgroup">How the process gets into its cgroup.</param>
    /// <param name="cgroupHierarchies">For <see cref="CgroupPlacement.JoinsItself"/>: the v1 hierarchies it joins.</param>
    /// <param name="waitsForStart">
    /// Whether the child waits, set up, for a start (the OCI created state). A run that starts at once does not:
    /// the child goes on to exec without a round trip to the launcher.
    /// </param>
    public static ContainerPlan Compile(
        ContainerSpec spec, ContainerCreateOptions options, string rootMountPoint, IHostView host, bool pooledNetwork = false, CgroupPlacement cgroup = CgroupPlacement.None,
        bool waitsForStart = true, IReadOnlyList<string>? cgroupHierarchies = null)
    {
        var settings = new PlanSettings(options.Stdio, options.Init, waitsForStart, rootMountPoint, SeccompNotify: options.SeccompNotify, Overlay: options.Overlay, Cgroup: cgroup,
            Secrets: options.Secrets, CgroupHierarchies: cgroupHierarchies, RootFiles: options.RootFiles);
        var plan = Run(CreateSteps, new PlanContext(spec, spec.Process!, host, settings with { PooledNetwork = pooledNetwork }));
        if (plan.UsesPooledNetwork)
        {
            // Not cached on failure: the same spec on the same host compiled once already, so a failure here is a
            // change of the host's files, which the next start should see afresh.
            plan._withoutPooledNetwork = new Lazy<ContainerPlan>(
                () => Run(CreateSteps, new PlanContext(spec, spec.Process!, host, settings)), LazyThreadSafetyMode.PublicationOnly);
        }

        // Where the pool cannot be used (no new network namespace, or a user namespace) the plan is the plain one.
        return plan;
    }

    /// <summary>
    /// Compiles <paramref name="process"/> started in the running container <paramref name="container"/> whose
    /// first process is <paramref name="containerPid"/>: join its namespaces, then run the process there.
    /// </summary>
    /// <exception cref="ExecutableNotFoundException">The program is not in the container.</exception>
    /// <exception cref="NotExecutableException">The program is a directory or has no execute permission.</exception>
    public static ContainerPlan CompileExec(
        ContainerSpec container, ProcessSpec process, ContainerStdio stdio, int containerPid, IHostView host, CgroupPlacement cgroup = CgroupPlacement.None,
        IReadOnlyList<string>? cgroupHierarchies = null) =>
        Run(ExecSteps, new PlanContext(container, process, host,
            new PlanSettings(stdio, Init: false, WaitsForStart: false, RootMountPoint: "", ContainerPid: containerPid, Cgroup: cgroup, CgroupHierarchies: cgroupHierarchies)));

    /// <summary>
    /// Compiles a child that sets up <paramref name="spec"/>'s root on <paramref name="overlay"/> and waits there,
    /// running nothing: a stopped container's root, held for a copy through <c>/proc/PID/root</c>.
    /// </summary>
    public static ContainerPlan CompileRootOnly(ContainerSpec spec, OverlayRootfs overlay, string rootMountPoint, IHostView host) =>
        Run(CreateSteps, new PlanContext(spec, spec.Process!, host,
            new PlanSettings(ContainerStdio.Null, Init: false, WaitsForStart: true, rootMountPoint, Overlay: overlay, RootOnly: true)));

    /// <summary>Runs <paramref name="steps"/> in order on <paramref name="context"/> and builds the result.</summary>
    internal static ContainerPlan Run(IEnumerable<PlanStep> steps, PlanContext context)
    {
        foreach (var step in steps)
        {
            step(context);
        }

        return context.Build();
    }
}
