namespace Containers.Runtime;

/// <summary>
/// A snapshot of a container's cgroup counters (<see cref="Container.GetStatsAsync"/>). A counter the host does not
/// keep (a controller that is not mounted) is null.
/// </summary>
/// <example>
/// <code>
/// var stats = await container.GetStatsAsync();
/// Console.WriteLine($"{stats.Memory.Usage / 1048576} MiB, {stats.Cpu.Total.TotalSeconds} s CPU, {stats.Pids.Current} tasks");
/// </code>
/// </example>
public sealed record ContainerStats
{
    /// <summary>When the counters were read.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Memory use.</summary>
    public required ContainerMemoryStats Memory { get; init; }

    /// <summary>CPU time and throttling.</summary>
    public required ContainerCpuStats Cpu { get; init; }

    /// <summary>Task count.</summary>
    public required ContainerPidsStats Pids { get; init; }

    /// <summary>Block I/O, summed over devices.</summary>
    public required ContainerIoStats Io { get; init; }

    /// <summary>Pressure stall information (cgroup v2 only; null on v1).</summary>
    public ContainerPressureStats? Pressure { get; init; }
}

/// <summary>A container's memory use in bytes.</summary>
/// <param name="Usage">Memory charged to the container now (page cache included).</param>
/// <param name="Peak">The highest usage seen, or null where the kernel does not keep it.</param>
/// <param name="Limit">The hard limit, or null for unlimited.</param>
/// <param name="OomKills">How many of its processes the OOM killer has killed.</param>
public sealed record ContainerMemoryStats(long? Usage, long? Peak, long? Limit, long OomKills)
{
    /// <summary>
    /// How many times usage went past <c>memory.high</c> and the kernel reclaimed and slowed the container's
    /// allocations (<c>high</c> of cgroup v2's <c>memory.events</c>; see <see cref="Spec.ContainerSpec.WithMemoryHigh"/>),
    /// or null where the kernel keeps no such count (cgroup v1, which has no such throttle, or no memory controller).
    /// </summary>
    public long? HighEvents { get; init; }
}

/// <summary>A container's CPU time and CFS throttling.</summary>
/// <param name="Total">CPU time used by all its processes.</param>
/// <param name="User">Of which in user mode.</param>
/// <param name="System">Of which in the kernel.</param>
/// <param name="Periods">Enforcement periods that have elapsed under a quota.</param>
/// <param name="ThrottledPeriods">Periods in which the quota ran out and the container was stopped.</param>
/// <param name="ThrottledTime">Total time the container was held back by its quota.</param>
public sealed record ContainerCpuStats(TimeSpan Total, TimeSpan User, TimeSpan System, long Periods, long ThrottledPeriods, TimeSpan ThrottledTime);

/// <summary>A container's tasks.</summary>
/// <param name="Current">Tasks (processes and threads) in the container now.</param>
/// <param name="Limit">The limit, or null for unlimited.</param>
public sealed record ContainerPidsStats(long? Current, long? Limit);

/// <summary>A container's block I/O, summed over devices.</summary>
/// <param name="ReadBytes">Bytes read.</param>
/// <param name="WriteBytes">Bytes written.</param>
/// <param name="ReadOps">Read operations.</param>
/// <param name="WriteOps">Write operations.</param>
public sealed record ContainerIoStats(long ReadBytes, long WriteBytes, long ReadOps, long WriteOps);

/// <summary>
/// Pressure stall information: how long the container's tasks waited for CPU, memory and I/O (cgroup v2's
/// <c>cpu.pressure</c>, <c>memory.pressure</c>, <c>io.pressure</c>). A resource whose file the kernel does not offer
/// (PSI off: boot with <c>psi=1</c>) is null.
/// </summary>
/// <param name="Cpu">Waiting for a CPU.</param>
/// <param name="Memory">Waiting for memory (reclaim, refaults, swap-in).</param>
/// <param name="Io">Waiting for block I/O.</param>
public sealed record ContainerPressureStats(ContainerPressure? Cpu, ContainerPressure? Memory, ContainerPressure? Io);

/// <summary>One resource's stalls.</summary>
/// <param name="Some">Time at least one of the container's tasks was stalled.</param>
/// <param name="Full">Time all its non-idle tasks were stalled at once (null where the kernel does not report it).</param>
public sealed record ContainerPressure(ContainerPressureLine Some, ContainerPressureLine? Full);

/// <summary>Stalls as shares of wall-clock time, in percent, over three windows, and their total.</summary>
/// <param name="Avg10">Over the last 10 seconds.</param>
/// <param name="Avg60">Over the last 60 seconds.</param>
/// <param name="Avg300">Over the last 300 seconds.</param>
/// <param name="Total">All the stalled time since the cgroup was made.</param>
public sealed record ContainerPressureLine(double Avg10, double Avg60, double Avg300, TimeSpan Total);
