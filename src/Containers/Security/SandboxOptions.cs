using System.Diagnostics.Contracts;

namespace Containers.Security;

/// <summary>
/// The knobs of <see cref="SandboxProfile"/>: how long the code may run, how much output is kept, how much memory,
/// how many tasks and how much CPU time it may use, how big its <c>/tmp</c> is, and which host ids a sandbox started
/// by root runs as.
/// </summary>
/// <remarks>
/// The memory, pids and CPU limits are applied through a cgroup of the sandbox's own (docs/cgroups.md). A host that
/// cannot apply one (cgroup v1 for a caller that is not root, a controller that is not mounted or delegated) refuses
/// to create the sandbox with a <see cref="Cgroups.CgroupException"/> naming the limit: it never runs without it.
/// Setting a limit to <see langword="null"/> runs the sandbox without that limit, on purpose; <see cref="WithoutLimits"/>
/// clears all three.
/// </remarks>
/// <example>
/// <code>
/// var options = SandboxOptions.Default with { MemoryLimitBytes = 64L &lt;&lt; 20, PidsLimit = 32, Cpus = 0.5 };
/// var sandbox = SandboxProfile.For(options, "/usr/bin/python3", "-c", untrustedSnippet);
/// </code>
/// </example>
public sealed record SandboxOptions
{
    /// <summary>
    /// The first host uid and gid of the range sandboxes run as when root starts them: 2 000 000 000, far above the
    /// subordinate ranges <c>useradd</c> hands out (100 000 upwards), so a sandbox's files and processes belong to no
    /// user of the host.
    /// </summary>
    public const uint DefaultHostIdStart = 2_000_000_000;

    /// <summary>The default memory limit, 256 MiB, swap included (<see cref="MemoryLimitBytes"/>).</summary>
    public const long DefaultMemoryLimitBytes = 256L << 20;

    /// <summary>The default task limit, 128 processes and threads (<see cref="PidsLimit"/>).</summary>
    public const long DefaultPidsLimit = 128;

    /// <summary>The default CPU limit, one CPU's worth of time (<see cref="Cpus"/>).</summary>
    public const double DefaultCpus = 1.0;

    /// <summary>The default options.</summary>
    public static SandboxOptions Default { get; } = new();

    /// <summary>The wall-clock limit; the container is killed when it is reached (<see cref="Runtime.ContainerResult.TimedOut"/>).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most stdout and stderr kept, each; the rest is dropped and the result says so.</summary>
    public long MaxOutputBytes { get; init; } = 1 << 20;

    /// <summary>
    /// The most memory the sandbox may use, in bytes, swap included (<c>linux.resources.memory.limit</c> and
    /// <c>swap</c> set to the same value): past it the kernel OOM-kills a process of it
    /// (<see cref="Runtime.ContainerResult.OomKilled"/>). <see langword="null"/> for no memory limit.
    /// </summary>
    public long? MemoryLimitBytes { get; init; } = DefaultMemoryLimitBytes;

    /// <summary>
    /// The most tasks (processes and threads) the sandbox may hold at once (<c>linux.resources.pids.limit</c>): a
    /// fork past it fails with <c>EAGAIN</c>, so a fork bomb stops there. <see langword="null"/> for no task limit.
    /// </summary>
    public long? PidsLimit { get; init; } = DefaultPidsLimit;

    /// <summary>
    /// The CPUs' worth of time the sandbox may use (a CFS quota per 100 ms period, as Docker's <c>--cpus</c>), so a
    /// busy loop cannot take the host's cores. <see langword="null"/> for no CPU limit.
    /// </summary>
    public double? Cpus { get; init; } = DefaultCpus;

    /// <summary>The size of the tmpfs at <c>/tmp</c>, the only writable place.</summary>
    public long TmpSizeBytes { get; init; } = 16 << 20;

    /// <summary>
    /// The first host id of the range a sandbox started by root maps its ids 0..<see cref="IdCount"/>-1 to. Every
    /// sandbox shares it unless you give each its own (see <see cref="SandboxProfile"/>). Ignored when the caller is
    /// not root: a rootless sandbox maps to the caller's own id and its subordinate range.
    /// </summary>
    public uint HostIdStart { get; init; } = DefaultHostIdStart;

    /// <summary>How many ids the range holds (65 536 by default, enough for any image's users).</summary>
    public uint IdCount { get; init; } = 65536;

    /// <summary>
    /// These options without the memory, pids and CPU limits: the sandbox then gets no cgroup of its own, for a host
    /// that cannot apply them (cgroup v1 and a caller that is not root). Its code can then use as much memory and
    /// CPU as the caller may, and fork as much as the sandbox's uid may.
    /// </summary>
    /// <returns>A copy with <see cref="MemoryLimitBytes"/>, <see cref="PidsLimit"/> and <see cref="Cpus"/> null.</returns>
    [Pure]
    public SandboxOptions WithoutLimits() => this with { MemoryLimitBytes = null, PidsLimit = null, Cpus = null };
}
