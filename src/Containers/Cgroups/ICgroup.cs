using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups;

/// <summary>One container's cgroup: its directories, its limits, its processes. Disposing it closes the counter files its stats keep open.</summary>
internal interface ICgroup : IDisposable
{
    /// <summary>The cgroup's directory per controller (v1; the key is the hierarchy's name), or its one directory under the key <c>""</c> (v2).</summary>
    IReadOnlyDictionary<string, string> Paths { get; }

    /// <summary>Opens the cgroup's directory for <c>CLONE_INTO_CGROUP</c> (v2 only).</summary>
    SafeFileHandle OpenDirectory();

    /// <summary>
    /// v1 only: the <c>tasks</c> file of the cgroup in <paramref name="hierarchy"/> (a key of <see cref="Paths"/>),
    /// open for writing, a handle the caller owns: a starting child writes <c>0</c> to it to move itself in.
    /// </summary>
    /// <exception cref="CgroupException">The file cannot be opened (the cgroup was removed).</exception>
    SafeFileHandle OpenTasks(string hierarchy);

    /// <summary>Opens ahead the files a start writes and reads, so that it only writes and reads them (the pool's cgroups, on its thread).</summary>
    void OpenAhead();

    /// <summary>Writes <paramref name="resources"/> to the cgroup (a running container's limits change at once).</summary>
    void Update(LinuxResources resources);

    /// <summary>Freezes every process of the cgroup and returns once they are frozen.</summary>
    Task FreezeAsync(CancellationToken cancellationToken);

    /// <summary>Thaws the cgroup's processes.</summary>
    void Thaw();

    /// <summary>Whether the cgroup is frozen.</summary>
    bool IsFrozen { get; }

    /// <summary>SIGKILLs every process of the cgroup (none can fork away meanwhile).</summary>
    Task KillAllAsync(CancellationToken cancellationToken);

    /// <summary>How many processes of the cgroup the kernel's OOM killer has killed.</summary>
    long OomKills { get; }

    /// <summary>Whether the cgroup has the memory controller, which counts its OOM kills.</summary>
    bool HasMemory { get; }

    /// <summary>Starts watching the cgroup's OOM kills as they happen.</summary>
    IOomKillWatch WatchOomKills();

    /// <summary>The memory limit, reservation and throttle the cgroup holds now (none without the memory controller).</summary>
    MemoryInForce ReadMemoryInForce();

    /// <summary>A snapshot of the cgroup's counters.</summary>
    Containers.Runtime.ContainerStats ReadStats();

    /// <summary>Kills what is left in the cgroup and removes its directories.</summary>
    Task DeleteAsync(CancellationToken cancellationToken);
}
