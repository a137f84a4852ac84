using Containers.Runtime;
using Containers.Security.Seccomp;
using Containers.Spec;

namespace Containers.Security;

/// <summary>
/// A container for code you do not trust, in one call: a user namespace even when root starts it (ids mapped to a
/// range of host ids no user has, <see cref="SandboxOptions.HostIdStart"/>), no capability at all, no_new_privs,
/// no network (loopback only), the host's <c>/usr</c>, <c>/bin</c>, <c>/lib*</c> and <c>/etc</c> read-only with a
/// read-only root, a small tmpfs <c>/tmp</c>, the sandbox seccomp profile (<see cref="SeccompProfiles.Sandbox"/>),
/// memory, task and CPU limits in a cgroup of its own, a wall-clock timeout and an output cap. The result
/// (<see cref="ContainerResult"/>) says the exit code or signal, whether it was OOM-killed, whether it timed out and
/// whether output was cut.
/// </summary>
/// <remarks>
/// <para>
/// The limits (<see cref="SandboxOptions.MemoryLimitBytes"/>, <see cref="SandboxOptions.PidsLimit"/>,
/// <see cref="SandboxOptions.Cpus"/>: 256 MiB with no swap, 128 tasks and one CPU by default) are part of the spec's
/// <c>linux.resources</c>. A host that cannot apply them refuses the sandbox when it is created
/// (<see cref="Cgroups.CgroupException"/>); on cgroup v1 that is every caller but root. Run without them only by
/// asking (<see cref="SandboxOptions.WithoutLimits"/>): then the code can use as much memory and CPU as the caller
/// may, and fork as much as the sandbox's uid may.
/// </para>
/// <para>
/// Sandboxes started by root share one host id range by default. They cannot see or signal each other (each has
/// its own pid namespace) and share no writable file (each has its own <c>/tmp</c> on a read-only root), but
/// per-uid kernel accounting, such as <c>RLIMIT_NPROC</c>, counts them together. Give each sandbox its own
/// <see cref="SandboxOptions.HostIdStart"/> where that matters.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var sandbox = SandboxProfile.For("/bin/sh", "-c", untrustedSnippet);
/// var result = await runtime.RunAsync(sandbox.Spec, sandbox.RunOptions, cancellationToken);
/// Console.WriteLine($"exit {result.ExitCode}, signal {result.Signal}, timed out {result.TimedOut}");
/// </code>
/// </example>
public sealed record SandboxProfile
{
    private SandboxProfile(ContainerSpec spec, ContainerRunOptions runOptions)
    {
        Spec = spec;
        RunOptions = runOptions;
    }

    /// <summary>The container spec; change it with its <c>WithX</c> methods (a bind of the code to run, an env var).</summary>
    public ContainerSpec Spec { get; init; }

    /// <summary>The timeout and output cap, for <see cref="ContainerRuntime.RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>.</summary>
    public ContainerRunOptions RunOptions { get; init; }

    /// <summary>A sandbox with <see cref="SandboxOptions.Default"/> that runs <paramref name="args"/>.</summary>
    /// <param name="args">The program (an absolute path or a name found in <c>PATH</c>) and its arguments.</param>
    public static SandboxProfile For(params string[] args) => For(SandboxOptions.Default, args);

    /// <summary>A sandbox with <paramref name="options"/> that runs <paramref name="args"/>.</summary>
    /// <param name="options">The timeout, output cap, limits, <c>/tmp</c> size and host id range.</param>
    /// <param name="args">The program (an absolute path or a name found in <c>PATH</c>) and its arguments.</param>
    public static SandboxProfile For(SandboxOptions options, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(args);
        var spec = ContainerSpec.For(args)
            .WithHostRootfs(readOnly: true)
            .WithTmpfs("/tmp", options.TmpSizeBytes)
            .WithCapabilities(LinuxCapabilities.None)
            .WithNoNewPrivileges(true)
            .WithNetwork(NetworkMode.None)
            .WithSeccomp(SeccompProfiles.Sandbox);

        // Root's containers have no user namespace unless asked: a sandbox always has one, mapped to ids no host
        // user has. A caller that is not root gets the rootless mapping (its own id, and its subordinate range).
        spec = Environment.IsPrivilegedProcess
            ? spec.WithUidMapping(0, options.HostIdStart, options.IdCount).WithGidMapping(0, options.HostIdStart, options.IdCount)
            : spec.WithNamespace(NamespaceType.User);
        spec = Limit(spec, options);
        return new SandboxProfile(spec, new ContainerRunOptions { Timeout = options.Timeout, MaxOutputBytes = options.MaxOutputBytes });
    }

    private static ContainerSpec Limit(ContainerSpec spec, SandboxOptions options)
    {
        if (options.MemoryLimitBytes is { } memory)
        {
            // Memory and swap together: a sandbox that swaps would slow the host instead of being OOM-killed.
            spec = spec.WithResources(r => r with { Memory = new LinuxMemory { Limit = memory, Swap = memory } });
        }

        if (options.PidsLimit is { } pids)
        {
            spec = spec.WithPidsLimit(pids);
        }

        return options.Cpus is { } cpus ? spec.WithCpuLimit(cpus) : spec;
    }
}
