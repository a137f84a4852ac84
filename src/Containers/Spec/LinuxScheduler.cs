using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// The process's scheduling policy and attributes (<c>process.scheduler</c>), as <c>sched_setattr(2)</c> takes them.
/// Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxScheduler
{
    /// <summary>The policy (<c>policy</c>): <c>SCHED_OTHER</c>, <c>SCHED_FIFO</c>, <c>SCHED_RR</c>, <c>SCHED_BATCH</c>, <c>SCHED_ISO</c>, <c>SCHED_IDLE</c> or <c>SCHED_DEADLINE</c>.</summary>
    public string Policy { get; init => field = value ?? ""; } = "";

    /// <summary>The nice value (<c>nice</c>) for <c>SCHED_OTHER</c> and <c>SCHED_BATCH</c>.</summary>
    public int? Nice { get; init; }

    /// <summary>The static priority (<c>priority</c>) for <c>SCHED_FIFO</c> and <c>SCHED_RR</c>.</summary>
    public int? Priority { get; init; }

    /// <summary><c>SCHED_FLAG_*</c> names (<c>flags</c>).</summary>
    public ImmutableArray<string> Flags { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Nanoseconds the process may run per period under <c>SCHED_DEADLINE</c> (<c>runtime</c>).</summary>
    public ulong? Runtime { get; init; }

    /// <summary>The relative deadline in nanoseconds under <c>SCHED_DEADLINE</c> (<c>deadline</c>).</summary>
    public ulong? Deadline { get; init; }

    /// <summary>The period in nanoseconds under <c>SCHED_DEADLINE</c> (<c>period</c>).</summary>
    public ulong? Period { get; init; }

    /// <summary>Whether both set the same policy, attributes and flags (in order).</summary>
    public bool Equals(LinuxScheduler? other) =>
        other is not null && string.Equals(Policy, other.Policy, StringComparison.Ordinal) && Nice == other.Nice
        && Priority == other.Priority && Structural.Equal(Flags, other.Flags) && Runtime == other.Runtime
        && Deadline == other.Deadline && Period == other.Period;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Policy, Nice, Priority, Structural.Hash(Flags), Runtime, Deadline, Period);
}
