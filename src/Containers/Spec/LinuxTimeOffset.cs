namespace Containers.Spec;

/// <summary>
/// A clock's offset in a new time namespace (a value of <c>linux.timeOffsets</c>, keyed <c>boottime</c> or
/// <c>monotonic</c>). Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxTimeOffset
{
    /// <summary>Whole seconds (<c>secs</c>).</summary>
    public long Secs { get; init; }

    /// <summary>Nanoseconds added to <see cref="Secs"/> (<c>nanosecs</c>).</summary>
    public uint Nanosecs { get; init; }
}
