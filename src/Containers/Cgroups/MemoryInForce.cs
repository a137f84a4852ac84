using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups;

/// <summary>
/// The memory limits a container's cgroup holds now (null where none is set): the hard limit, the reservation (v1
/// <c>memory.soft_limit_in_bytes</c>, v2 <c>memory.low</c>) and the throttle (v2 <c>memory.high</c>). An update sets
/// only what it names and leaves the rest in force, so the rules that keep the reservation and the throttle below
/// the limit are checked on what the cgroup will hold after it, not on the update alone: a throttle above a limit
/// already in force would be accepted and never act.
/// </summary>
internal readonly record struct MemoryInForce(long? Limit, long? Reservation, long? High)
{
    private const string Field = "linux.resources.memory";

    /// <summary>A value as a cgroup file holds it: the kernel's "no limit" (v1's near-maximum number, v2's <c>max</c>, which reads as null) and 0 are none.</summary>
    public static long? Set(long? value) => value is > 0 and < long.MaxValue / 2 ? value : null;

    /// <summary>The errors of <paramref name="update"/> applied on top of these limits; none when it leaves them consistent.</summary>
    public IReadOnlyList<SpecError> Check(LinuxResources update)
    {
        var errors = new List<SpecError>();
        var newLimit = update.Memory?.Limit;
        var newReservation = update.Memory?.Reservation;
        var newHigh = UnifiedResources.MemoryHighOf(update);
        var limit = newLimit is { } l ? (l > 0 ? l : null) : Limit;
        if (limit is null)
        {
            return errors;
        }

        var reservation = newReservation is { } r ? (r > 0 ? r : null) : Reservation;
        if (reservation > limit && (newLimit is not null || newReservation is not null))
        {
            errors.Add(newReservation is not null
                ? new($"{Field}.reservation", $"must not exceed the memory limit in force ({Text(limit)}): it is a soft limit below the hard one, got {Text(reservation)}")
                : new($"{Field}.limit", $"must not be below the reservation in force ({Text(reservation)}): lower the reservation in the same update, got {Text(limit)}"));
        }

        var high = newHigh is { } h ? (h > 0 ? h : null) : High;
        if (high > limit && (newLimit is not null || newHigh is not null))
        {
            errors.Add(newHigh is not null
                ? new(UnifiedResources.PathOf(UnifiedResources.MemoryHigh), $"must not exceed the memory limit in force ({Text(limit)}): usage never passes the hard limit, so a throttle above it never acts, got {Text(high)}")
                : new($"{Field}.limit", $"must not be below the memory.high in force ({Text(high)}): a throttle above the limit never acts; lower memory.high in the same update, got {Text(limit)}"));
        }

        return errors;
    }

    private static string Text(long? bytes) => bytes!.Value.ToString(CultureInfo.InvariantCulture);
}
