using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// The facts about the host the plan steps decide by: who we are, which subordinate ids we may map, and what the
/// files a container will see are. <see cref="HostView"/> reads them from the machine; unit tests give the steps a
/// fake, so a step is tested by the ops it emits for given facts, with no I/O.
/// </summary>
internal interface IHostView
{
    /// <summary>Whether the runtime runs with root's privileges (effective uid 0).</summary>
    bool IsPrivileged { get; }

    /// <summary>The runtime's effective uid.</summary>
    uint Uid { get; }

    /// <summary>The runtime's effective gid.</summary>
    uint Gid { get; }

    /// <summary>
    /// The subordinate id ranges <c>/etc/subuid</c> and <c>/etc/subgid</c> grant the runtime's user, or null when
    /// there are none or the setuid helpers that map them (<c>newuidmap</c>, <c>newgidmap</c>) are not installed.
    /// </summary>
    SubordinateIds? SubordinateIds { get; }

    /// <summary>
    /// Whether this process takes the exit status of children it did not wait for (pid 1 of its pid namespace, or
    /// SIGCHLD ignored; see <see cref="Linux.HostReaping"/>): then containers-init keeps every program.
    /// </summary>
    bool ReapsEveryChild { get; }

    /// <summary>What is at the host path <paramref name="path"/>, without following a symbolic link at its end (lstat), or null when nothing is (or it cannot be looked at).</summary>
    HostFile? Inspect(string path);

    /// <summary>
    /// The capability bounding set as a mask that a child cloned from <see cref="Linux.LaunchThread.Default"/> starts
    /// with (that thread's <c>CapBnd</c>, which it never changes): the most any container started from here can hold.
    /// </summary>
    ulong BoundingSet { get; }

    /// <summary>The kernel's highest capability number (<c>/proc/sys/kernel/cap_last_cap</c>): a new user namespace's bounding set holds 0 to it.</summary>
    int LastCapability { get; }
}
