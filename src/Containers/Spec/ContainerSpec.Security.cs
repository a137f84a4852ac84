using System.Diagnostics.Contracts;

namespace Containers.Spec;

public sealed partial record ContainerSpec
{
    /// <summary>
    /// Sets the process's capability sets; null gives Docker's default set (<see cref="LinuxCapabilities.Default"/>, less
    /// what the host's bounding set lacks), <see cref="LinuxCapabilities.None"/> none at all.
    /// </summary>
    /// <example><code>var spec = ContainerSpec.For("/bin/sh").WithCapabilities(LinuxCapabilities.Of("CAP_NET_BIND_SERVICE"));</code></example>
    [Pure]
    public ContainerSpec WithCapabilities(LinuxCapabilities? capabilities) => WithProcess(p => p with { Capabilities = capabilities });

    /// <summary>
    /// Adds capabilities to the process's sets (Docker's <c>--cap-add</c>; <c>ALL</c> for every one), starting from
    /// Docker's default set when the spec has none. A capability the host's bounding set lacks fails the start.
    /// </summary>
    /// <exception cref="InvalidSpecException">A name is not a capability.</exception>
    /// <example><code>var spec = ContainerSpec.For("/bin/sh").WithCapabilitiesAdded("NET_ADMIN");</code></example>
    [Pure]
    public ContainerSpec WithCapabilitiesAdded(params IEnumerable<string> names) =>
        WithCapabilities((Process?.Capabilities ?? LinuxCapabilities.Default).WithAdded(names));

    /// <summary>
    /// Removes capabilities from the process's sets (Docker's <c>--cap-drop</c>; <c>ALL</c> for every one),
    /// starting from Docker's default set when the spec has none.
    /// </summary>
    /// <exception cref="InvalidSpecException">A name is not a capability.</exception>
    /// <example><code>var spec = ContainerSpec.For("/bin/sh").WithCapabilitiesDropped("ALL").WithCapabilitiesAdded("CHOWN");</code></example>
    [Pure]
    public ContainerSpec WithCapabilitiesDropped(params IEnumerable<string> names) =>
        WithCapabilities((Process?.Capabilities ?? LinuxCapabilities.Default).WithDropped(names));

    /// <summary>
    /// <b>Unsafe: not a boundary.</b> Gives the process every capability this host's bounding set has, removes the
    /// masked and read-only paths and the seccomp filter, and turns <c>noNewPrivileges</c> off, as Docker's <c>--privileged</c>. A privileged
    /// container's root can load kernel modules, reach host devices and remount what it sees: use it only for code
    /// you would run as root on the host.
    /// </summary>
    [Pure]
    public ContainerSpec WithPrivileged()
    {
        var host = global::Containers.Linux.CapabilityBoundingSet.Read();
        var names = CapabilityNames.All.Where((_, number) => (host & (1UL << number)) != 0);
        var spec = WithCapabilities(LinuxCapabilities.Of(names)).WithNoNewPrivileges(false);
        return spec with { Linux = (spec.Linux ?? new LinuxSpec()) with { MaskedPaths = [], ReadonlyPaths = [], Seccomp = null } };
    }

    /// <summary>
    /// Sets <c>process.noNewPrivileges</c> (on in <see cref="For"/>): with it, no <c>execve</c> can gain privileges
    /// (setuid and setgid bits and file capabilities are ignored). Turn it off only for a program that needs setuid.
    /// </summary>
    [Pure]
    public ContainerSpec WithNoNewPrivileges(bool enabled = true) => WithProcess(p => p with { NoNewPrivileges = enabled });
}
