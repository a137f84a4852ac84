using System.Runtime.CompilerServices;
using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// The specs <see cref="ContainerRuntime.RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/> has run,
/// each with the <see cref="PreparedContainer"/> compiled for it, so a spec run again skips validation, the program's
/// lookup, compilation and the serialization of its <c>config.json</c>: a harness that runs one spec object many
/// times gets <see cref="PreparedContainer"/>'s speed without preparing.
/// </summary>
/// <remarks>
/// Keyed by the spec object itself: specs are immutable records (every collection in them is immutable), so the same
/// object always compiles to the same plan on the same host. An entry lives as long as its spec does (a weak table),
/// which bounds the cache by what the caller still holds. What the plan read from the host can change:
/// <list type="bullet">
/// <item>whether this process reaps every child (pid 1, SIGCHLD ignored) decides whether containers-init stays as
/// the program's keeper; it is read on every run (one system call) and a change compiles again;</item>
/// <item>the host's files (the program, a mount's source, the rootfs): a start from a reused plan that fails compiles
/// the spec again (<see cref="Recheck"/>), so a host that no longer fits the spec gets the error a first run gives
/// (<see cref="ExecutableNotFoundException"/>, <see cref="RootfsNotFoundException"/>, ...), and the next run a fresh
/// plan.</item>
/// </list>
/// </remarks>
internal sealed class RunPlans(Func<ContainerSpec, bool, PreparedContainer> prepare)
{
    private readonly ConditionalWeakTable<ContainerSpec, Entry> _entries = [];

    /// <summary>The prepared container for <paramref name="spec"/>: the one compiled before, when it still fits this process, or a new one.</summary>
    /// <param name="spec">The spec to run.</param>
    /// <param name="reused">Whether it was compiled for an earlier run.</param>
    public PreparedContainer Get(ContainerSpec spec, out bool reused)
    {
        var reaps = HostReaping.ReapsEveryChild();
        if (_entries.TryGetValue(spec, out var entry) && entry.ReapsEveryChild == reaps)
        {
            reused = true;
            return entry.Prepared;
        }

        reused = false;
        var prepared = prepare(spec, reaps);
        _entries.AddOrUpdate(spec, new Entry(prepared, reaps));
        return prepared;
    }

    /// <summary>
    /// After a reused plan's start failed: forgets it and compiles <paramref name="spec"/> again, which throws when the
    /// host's files no longer fit it (the typed error of a first run) and otherwise keeps the new plan for the next run.
    /// </summary>
    public void Recheck(ContainerSpec spec)
    {
        _entries.Remove(spec);
        _ = Get(spec, out _);
    }

    /// <summary>The prepared container kept for <paramref name="spec"/>, or null.</summary>
    public PreparedContainer? Find(ContainerSpec spec) => _entries.TryGetValue(spec, out var entry) ? entry.Prepared : null;

    private sealed record Entry(PreparedContainer Prepared, bool ReapsEveryChild);
}
