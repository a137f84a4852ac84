using System.Runtime.CompilerServices;
using Containers.Cgroups;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>What a container's cgroup offers: pause and resume, stats, and limits changed while it runs.</summary>
public sealed partial class Container
{
    /// <summary>
    /// Freezes every process of the container (the cgroup freezer) and returns once they are stopped. They hold
    /// their memory and fds but get no CPU until <see cref="ResumeAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for the freeze to complete.</param>
    /// <exception cref="ContainerStatusException">The container is not running.</exception>
    /// <exception cref="ContainersException">The container has no cgroup (its spec sets no <c>linux.resources</c>).</exception>
    /// <example>
    /// <code>
    /// await container.PauseAsync();
    /// // ... the container uses no CPU here ...
    /// await container.ResumeAsync();
    /// </code>
    /// </example>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        ThawAbandonedCommit();
        var status = Status;
        if (status != ContainerStatus.Running)
        {
            throw new ContainerStatusException(Id, "pause", status, "only a running container can be paused");
        }

        await Cgroup("pause").FreezeAsync(cancellationToken).ConfigureAwait(false);
        Update(s => s.Status == ContainerStatus.Running ? s with { Status = ContainerStatus.Paused } : s);
        Record(Event(ContainerEventAction.Pause));
        RuntimeLog.ContainerCgroupChanged(_logger, Id, "paused");
    }

    /// <summary>Thaws a container <see cref="PauseAsync"/> froze.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ContainerStatusException">The container is not paused.</exception>
    public Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (ThawAbandonedCommit())
        {
            // Frozen by a commit that died, not by a pause: thawed now, as asked.
            return Task.CompletedTask;
        }

        var status = Status;
        if (status != ContainerStatus.Paused)
        {
            throw new ContainerStatusException(Id, "resume", status, "only a paused container can be resumed");
        }

        Cgroup("resume").Thaw();
        Update(s => s.Status == ContainerStatus.Paused ? s with { Status = ContainerStatus.Running } : s);
        Record(Event(ContainerEventAction.Unpause));
        RuntimeLog.ContainerCgroupChanged(_logger, Id, "resumed");
        return Task.CompletedTask;
    }

    /// <summary>Reads the container's counters: memory, CPU time and throttling, tasks, block I/O.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ContainersException">The container has no cgroup (its spec sets no <c>linux.resources</c>).</exception>
    public Task<ContainerStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Cgroup("read the stats of").ReadStats());
    }

    /// <summary>Reads the counters every <paramref name="interval"/> until the container stops or the token is canceled.</summary>
    /// <param name="interval">The time between snapshots; one second when null.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <example>
    /// <code>
    /// await foreach (var stats in container.StreamStatsAsync(TimeSpan.FromSeconds(1), token))
    ///     Console.WriteLine($"{stats.Cpu.Total.TotalSeconds:F1} s CPU, {stats.Memory.Usage} bytes");
    /// </code>
    /// </example>
    public async IAsyncEnumerable<ContainerStats> StreamStatsAsync(
        TimeSpan? interval = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cgroup = Cgroup("read the stats of");
        using var timer = new PeriodicTimer(interval ?? TimeSpan.FromSeconds(1));
        do
        {
            if (Status == ContainerStatus.Stopped)
            {
                yield break;
            }

            yield return cgroup.ReadStats();
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The kernel's OOM kills in the container as they happen (v2: the change notification of <c>memory.events</c>;
    /// v1: an eventfd on <c>memory.oom_control</c>), from this call on, until the container stops or
    /// <paramref name="cancellationToken"/> is canceled. A kill that stops the container comes before the end.
    /// Kills before the call are not replayed: <see cref="ContainerStats.Memory"/> counts them.
    /// </summary>
    /// <param name="cancellationToken">Ends the watch.</param>
    /// <exception cref="ContainersException">The container has no cgroup (its spec sets no <c>linux.resources</c>).</exception>
    /// <example>
    /// <code>
    /// await foreach (var kill in container.WatchOomKillsAsync(token))
    ///     Console.Error.WriteLine($"{kill.Time:T}: a process was killed for memory ({kill.Count} so far)");
    /// </code>
    /// </example>
    public async IAsyncEnumerable<ContainerOomKill> WatchOomKillsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cgroup = Cgroup("watch the OOM kills of");
        using var watch = cgroup.WatchOomKills();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var seen = cgroup.OomKills;
        while (true)
        {
            var next = watch.NextAsync(seen, stop.Token);
            if (await Task.WhenAny(next, _exit).ConfigureAwait(false) == next)
            {
                seen = await next.ConfigureAwait(false);
                yield return new ContainerOomKill(DateTimeOffset.UtcNow, seen);
                continue;
            }

            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await next.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The watch ends with the container; the counter below has what it saw last.
            }

            // The killer counts a kill before its SIGKILL lands, so a kill that stopped the container is counted now.
            if (cgroup.OomKills is var last && last > seen)
            {
                yield return new ContainerOomKill(DateTimeOffset.UtcNow, last);
            }

            yield break;
        }
    }

    /// <summary>
    /// Changes the limits of a created, running or paused container; the kernel applies them at once. Only the
    /// fields set in <paramref name="resources"/> change. They are checked as a spec's are, before anything is written.
    /// On cgroup v2 <see cref="LinuxResources.Unified"/> may set <c>memory.high</c> (bytes, or <c>max</c> to lift it).
    /// </summary>
    /// <param name="resources">The limits to set.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidSpecException">A limit is out of range, or would leave the reservation or <c>memory.high</c> in force above the memory limit.</exception>
    /// <exception cref="CgroupException">This host cannot enforce a limit, or the kernel refused it.</exception>
    /// <example>
    /// <code>
    /// await container.UpdateAsync(new LinuxResources { Memory = new LinuxMemory { Limit = 256L &lt;&lt; 20 } });
    /// await container.UpdateAsync(new LinuxResources { Unified = ImmutableSortedDictionary&lt;string, string&gt;.Empty.Add("memory.high", "max") });
    /// </code>
    /// </example>
    public Task UpdateAsync(LinuxResources resources, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resources);
        cancellationToken.ThrowIfCancellationRequested();
        var status = Status;
        if (!status.CanKill())
        {
            throw new ContainerStatusException(Id, "update", status, "its process has exited");
        }

        var cgroup = Cgroup("update");
        (Spec with { Linux = (Spec.Linux ?? new LinuxSpec()) with { Resources = resources } }).ThrowIfInvalid();
        _driver?.Validate(resources);
        if (cgroup.ReadMemoryInForce().Check(resources) is { Count: > 0 } errors)
        {
            throw new InvalidSpecException(errors);
        }

        cgroup.Update(resources);
        Record(Event(ContainerEventAction.Update));
        RuntimeLog.ContainerCgroupChanged(_logger, Id, "limits updated");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts recording an <c>oom</c> event for each OOM kill as it happens, until the container's process exits: the
    /// owner's part, since it is the one process that lives as long as the container (a run's, a detached container's
    /// monitor). Called once the start is recorded, so that no <c>oom</c> comes before it. The watch begins off the
    /// start's path, from a count of none: the container's cgroup is its own from the start (never a reused one), so
    /// a kill before the watch is in place is recorded all the same.
    /// </summary>
    internal void RecordOomKills()
    {
        if (!_owner || _cgroup is not { } cgroup)
        {
            return;
        }

        lock (_gate)
        {
            if (_exitSeen || _oomStop is not null)
            {
                return;
            }

            // Not disposed: without a timer it holds nothing but memory, and the exit may cancel it at any time.
            _oomStop = new CancellationTokenSource();
            var stop = _oomStop.Token;

            // Ends by itself once stopped; every failure is caught and logged inside.
            _ = Task.Run(() => RecordOomKillsAsync(cgroup, stop), CancellationToken.None);
        }
    }

    private async Task RecordOomKillsAsync(ICgroup cgroup, CancellationToken stop)
    {
        IOomKillWatch watch;
        try
        {
            // Without the memory controller no kill is counted, at the exit either.
            if (stop.IsCancellationRequested || !cgroup.HasMemory)
            {
                return;
            }

            watch = cgroup.WatchOomKills();
        }
        catch (Exception e) when (e is CgroupException or IOException or UnauthorizedAccessException)
        {
            // Its files refused: the exit still records the kills of the container's life.
            RuntimeLog.OomKillsNotWatched(_logger, e, Id);
            return;
        }

        using (watch)
        {
            while (true)
            {
                long kills;
                try
                {
                    kills = await watch.NextAsync(Volatile.Read(ref _oomRecorded), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e) when (e is ContainersException or IOException)
                {
                    // Once stopped, the cgroup may be going with the container: only a failure before is one.
                    if (!stop.IsCancellationRequested)
                    {
                        RuntimeLog.OomKillsNotWatched(_logger, e, Id);
                    }

                    return;
                }

                // Recorded under the gate, and only before the exit is seen: the exit records every kill not recorded
                // by then (the count it read under the gate says which), so none is recorded twice or left out.
                var oom = Event(ContainerEventAction.Oom) with { OomKills = kills };
                lock (_gate)
                {
                    if (_exitSeen)
                    {
                        return;
                    }

                    _oomRecorded = kills;
                    Record(oom);
                }
            }
        }
    }

    /// <summary>
    /// Ends the watch <see cref="RecordOomKills"/> started (or keeps one from starting) once the process has exited,
    /// and returns the count of kills it recorded. The exit does not wait for the watch to wind down (a wake-up of
    /// a pool thread, on every exit): from here on it records nothing.
    /// </summary>
    private long StopRecordingOomKills()
    {
        CancellationTokenSource? stop;
        long recorded;
        lock (_gate)
        {
            _exitSeen = true;
            recorded = _oomRecorded;
            stop = _oomStop;
        }

        stop?.Cancel();
        return recorded;
    }

    /// <summary>The container's cgroup and how a new process of it gets in.</summary>
    internal (ICgroup? Cgroup, Plan.CgroupPlacement Placement) CgroupPlacement => _cgroup is null || _driver is null
        ? (null, Plan.CgroupPlacement.None)
        : (_cgroup, _driver.ClonesIntoCgroup ? Plan.CgroupPlacement.CloneInto : Plan.CgroupPlacement.JoinsItself);

    private ICgroup Cgroup(string verb) => _cgroup
        ?? throw new ContainersException($"cannot {verb} container '{Id}': it has no cgroup. Give its spec linux.resources (even empty) to place it in one");
}
