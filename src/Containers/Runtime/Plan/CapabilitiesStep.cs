using Containers.Security;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The capability sets, after the ids changed (ProcessStep sets <c>PR_SET_KEEPCAPS</c> before, so a non-root user
/// keeps what it is given): the container's five sets, or Docker's default set (less CAP_MKNOD) when the spec has none, less what
/// the host's bounding set lacks. An exec gets the container's sets, never its own. A capability the spec names but the
/// host's bounding set lacks is an error before anything starts.
/// </summary>
internal static class CapabilitiesStep
{
    public static void Apply(PlanContext context)
    {
        var host = context.Host.BoundingSet;
        var capabilities = context.Spec.Process?.Capabilities;
        if (capabilities is null)
        {
            // Docker relies on its device cgroup to make CAP_MKNOD harmless; without device rules a node of the host's
            // disk could be made and opened, so the default leaves it out (a spec may still ask for it).
            var defaults = DefaultSet(host);
            SetCapabilities(context, defaults, defaults, 0, defaults, []);
            return;
        }

        var bounding = CapabilityNames.Mask(capabilities.Bounding);
        var effective = CapabilityNames.Mask(capabilities.Effective);
        var permitted = CapabilityNames.Mask(capabilities.Permitted);
        var inheritable = CapabilityNames.Mask(capabilities.Inheritable);
        var ambient = CapabilityNames.Mask(capabilities.Ambient);
        var missing = (bounding | effective | permitted | inheritable | ambient) & ~host;
        if (missing != 0)
        {
            throw new CapabilityUnavailableException([.. Numbers(missing).Select(CapabilityNames.Name)]);
        }

        SetCapabilities(context, effective, permitted, inheritable, bounding, Numbers(ambient).Select(n => (uint)n));
    }

    /// <summary>Docker's default set less CAP_MKNOD, as far as the host's bounding set <paramref name="host"/> has it.</summary>
    public static ulong DefaultSet(ulong host) =>
        CapabilityNames.Mask(LinuxCapabilities.Default.Bounding) & ~(1UL << CapabilityNames.Number("CAP_MKNOD")) & host;

    /// <summary>
    /// The CAPSET op, with the capabilities the child must drop to reach <paramref name="bounding"/> listed, so the
    /// child reads none: in a user namespace (made or joined) the kernel has set the bounding set to every
    /// capability up to the host's last; otherwise the child has its launch thread's.
    /// </summary>
    /// <remarks>
    /// The default set is the one nearly every container has: from the process's second such start on, it is cloned
    /// from a launch thread that holds that set already, which spares the child a credential commit per dropped
    /// capability (27 here). The op still lists the drops, for a clone from <see cref="Linux.LaunchThread.Default"/>
    /// (the first start, or when no such thread could be made), and the
    /// first of them is the probe that tells the two apart in one read: <see cref="IHostView.BoundingSet"/> is that
    /// thread's own set, which nothing changes, so a child that lacks the probe came from the reduced thread, whose
    /// set is the wanted one. Other sets drop in the child (a thread per set would grow without bound). A user
    /// namespace gets a full bounding set from the kernel whatever the clone had, so there the thread would not help.
    /// </remarks>
    private static void SetCapabilities(PlanContext context, ulong effective, ulong permitted, ulong inheritable, ulong bounding, IEnumerable<uint> ambient)
    {
        var held = context.InUserNamespace ? Enumerable.Range(0, context.Host.LastCapability + 1) : Numbers(context.Host.BoundingSet);
        var drop = held.Where(n => n >= 64 || (bounding & (1UL << n)) == 0).Select(n => (uint)n).ToList();
        uint? probe = null;
        if (!context.InUserNamespace && drop.Count > 0 && bounding == DefaultSet(context.Host.BoundingSet))
        {
            context.Plan.LaunchWithBoundingSet(bounding);
            probe = drop[0];
        }

        context.Plan.CapSet(effective, permitted, inheritable, drop, probe, ambient);
    }

    private static IEnumerable<int> Numbers(ulong mask) => Enumerable.Range(0, 64).Where(n => (mask & (1UL << n)) != 0);
}
