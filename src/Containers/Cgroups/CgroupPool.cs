using System.Collections.Concurrent;
using System.Globalization;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cgroups;

/// <summary>
/// A few empty cgroups made ahead of time, with the standard device list already in place, so that a start with
/// limits only writes its limits: making a cgroup (a directory in each v1 hierarchy, or a v2 directory and its
/// device program) and removing it are the largest part of what limits cost a start. One long-lived thread makes
/// them in the background and takes back the cgroups of deleted containers.
/// </summary>
/// <remarks>
/// <para>Every container's cgroup spans the same controllers (all of the driver's hierarchies on v1, one directory on
/// v2), so one pool serves every set of limits. A deleted container's cgroup goes to the pool's thread, not removed
/// on the delete's path. On v1 the thread recycles it (<see cref="ICgroupDriver.Recycle"/>): under a new name, with
/// the directories that read as new ones' renamed and the others made again. The memory and cpuacct directories
/// are always new, since the kernel cannot zero their counters (<c>oom_kill</c>, <c>memory.stat</c>,
/// <c>cpuacct.stat</c>) nor uncharge all of a former container's page cache. So no container sees another's OOM
/// kills, CPU time, throttling, limits or device rules, and a former container's paths reach nothing. On v2, where
/// no counter can be zeroed, it is removed.</para>
/// <para>Pooled cgroups are named <c>.pool-PID-STARTTIME-PIDNS-N</c> after the process that made them and its pid
/// namespace (a name no container id can have): the container's state records its cgroup's directories, and a
/// runtime that opens the state directory after this process died (even by SIGKILL) sweeps them with the other
/// stale cgroups, while a live process's pool is left alone. Only a runtime in the same pid namespace can tell
/// (<see cref="ProcessIdentity.SeesPidsOf"/>): from another, a pool is never taken for a dead process's.</para>
/// </remarks>
internal sealed class CgroupPool : IAsyncDisposable
{
    /// <summary>How pooled cgroups' names start; the maker's pid, start time and pid namespace follow.</summary>
    public const string Prefix = ".pool-";

    private static readonly LinuxResources NoLimits = new();
    private static long s_sequence;
    private readonly ICgroupDriver _driver;
    private readonly int _capacity;
    private readonly Action<Exception> _report;
    private readonly ConcurrentQueue<ICgroup> _ready = new();
    private readonly ConcurrentQueue<ICgroup> _released = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private readonly Lock _gate = new();
    private bool _closed;
    private int _count;

    // The worker sleeps in Monitor.Wait until signalled, as NetworkNamespacePool's filler: a SemaphoreSlim spins in
    // sched_yield before it blocks, about 80 calls per start with limits on two CPUs (bpftrace).
    private readonly object _signal = new();
    private bool _signalled;

    /// <summary>Starts the thread that keeps <paramref name="capacity"/> cgroups of <paramref name="driver"/> ready.</summary>
    /// <param name="driver">The host's driver; the pooled cgroups go below its parent.</param>
    /// <param name="capacity">How many cgroups to keep ready (at least 1).</param>
    /// <param name="report">Told of a failure to make or remove a cgroup (the pool then stops making them; a start makes its own).</param>
    public CgroupPool(ICgroupDriver driver, int capacity, Action<Exception> report)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _driver = driver;
        _capacity = capacity;
        _report = report;
        _worker = new Thread(Work) { IsBackground = true, Name = "containers-cgroup-pool" };
        _worker.Start();
        Wake();
    }

    /// <summary>Cgroups ready to be taken now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether the worker stopped making cgroups after a failure.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Whether <paramref name="name"/> is a pooled cgroup's.</summary>
    public static bool IsPooled(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// Whether the process that made the pooled cgroup <paramref name="name"/> is alive (it may still hand it out, or a
    /// container of it uses it), or may be: one in another pid namespace counts as alive. A name without the pid
    /// namespace (<c>.pool-PID-STARTTIME-N</c>, made before it was recorded) is judged by its pid.
    /// </summary>
    public static bool IsOwnerAlive(string name)
    {
        var parts = name[Prefix.Length..].Split('-');
        var pidNamespace = 0UL;
        return parts.Length is 3 or 4
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
            && (parts.Length == 3 || ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out pidNamespace))
            && (!ProcessIdentity.SeesPidsOf(pidNamespace) || new ProcessIdentity(pid, startTime).IsAlive);
    }

    /// <summary>
    /// A ready cgroup with <paramref name="resources"/> written to it, or null when none is ready (the caller then
    /// makes one). On a failure to write a limit the cgroup is removed and the error thrown. Its replacement is
    /// made once the caller says <see cref="Replenish"/>: after its launch, so that the making (a directory in every
    /// hierarchy) does not compete with the child's setup for the CPUs.
    /// </summary>
    /// <exception cref="CgroupException">Writing a limit failed.</exception>
    public ICgroup? TryTake(LinuxResources resources)
    {
        if (!_ready.TryDequeue(out var cgroup))
        {
            return null;
        }

        Interlocked.Decrement(ref _count);
        try
        {
            // The standard device list is in place; the spec's rules, if any, replace it with itself plus them.
            cgroup.Update(resources);
            return cgroup;
        }
        catch
        {
            Release(cgroup);
            throw;
        }
    }

    /// <summary>Lets the pool's thread replace the cgroups taken (see <see cref="TryTake"/>).</summary>
    public void Replenish() => Wake();

    /// <summary>
    /// Takes a container's cgroup to the pool's thread, which recycles it or removes it (killing what is left in it
    /// first) and disposes it: the caller no longer uses it. Once the pool is disposed this returns false and the
    /// caller removes it.
    /// </summary>
    public bool Release(ICgroup cgroup)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _released.Enqueue(cgroup);
        }

        Wake();
        return true;
    }

    /// <summary>Stops the thread, then removes the cgroups released meanwhile and those nobody took.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Wake();
        await Task.Run(_worker.Join).ConfigureAwait(false);
        while (_released.TryDequeue(out var cgroup) || _ready.TryDequeue(out cgroup))
        {
            await RemoveAsync(cgroup).ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private void Wake()
    {
        lock (_signal)
        {
            _signalled = true;
            Monitor.Pulse(_signal);
        }
    }

    private void Work()
    {
        var stop = _stop.Token;
        try
        {
            while (true)
            {
                lock (_signal)
                {
                    while (!_signalled)
                    {
                        stop.ThrowIfCancellationRequested();
                        Monitor.Wait(_signal);
                    }

                    _signalled = false;
                }

                // Released cgroups first: made ready again, or removed, they free what a start may need (a pids or
                // memory budget in the parent).
                while (_released.TryDequeue(out var released))
                {
                    Recycle(released, stop);
                }

                while (Failure is null && Volatile.Read(ref _count) < _capacity && !stop.IsCancellationRequested)
                {
                    Make();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed: DisposeAsync removes what is left.
        }
    }

    /// <summary>
    /// Makes a released cgroup a ready one under a new name where the driver can renew it (v1: see
    /// <see cref="ICgroupDriver.Recycle"/>), while fewer than twice <see cref="_capacity"/> are ready, so that starts back
    /// to back take the cgroups the last ones released and the making stops; otherwise removes it.
    /// </summary>
    private void Recycle(ICgroup released, CancellationToken stop)
    {
        if (Failure is null && Volatile.Read(ref _count) < 2 * _capacity && !stop.IsCancellationRequested)
        {
            try
            {
                if (_driver.Recycle(released, NextName()) is { } renewed)
                {
                    // Files of renamed directories came along open; those of the ones made again are opened here.
                    renewed.OpenAhead();
                    _ready.Enqueue(renewed);
                    Interlocked.Increment(ref _count);
                    released.Dispose();
                    return;
                }
            }
            catch (CgroupException e)
            {
                // What is left of it is removed below; the next release is tried again.
                _report(e);
            }
        }

        RemoveAsync(released).GetAwaiter().GetResult();
    }

    private static string NextName()
    {
        var identity = ProcessIdentity.Current;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Prefix}{identity.Pid}-{identity.StartTime}-{ProcessIdentity.CurrentPidNamespace}-{Interlocked.Increment(ref s_sequence)}");
    }

    private void Make()
    {
        var name = NextName();
        try
        {
            var cgroup = _driver.Create(name, NoLimits);
            cgroup.OpenAhead();
            _ready.Enqueue(cgroup);
            Interlocked.Increment(ref _count);
        }
        catch (Exception e) when (e is CgroupException or IOException or UnauthorizedAccessException)
        {
            // A host that refuses one refuses the next: stop, and let starts make their own (and report why).
            Failure = e;
            _report(e);
        }
    }

    private async Task RemoveAsync(ICgroup cgroup)
    {
        try
        {
            await cgroup.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CgroupException or IOException or UnauthorizedAccessException)
        {
            // Left in place: its name says whose it is, and the first runtime opened after this process ends sweeps it.
            _report(e);
        }
        finally
        {
            cgroup.Dispose();
        }
    }
}
