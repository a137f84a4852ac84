using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary>
/// The long-lived threads every child is cloned from. <c>PR_SET_PDEATHSIG</c> fires when the thread that cloned
/// the child exits, and thread-pool threads retire when idle, so clones happen on threads that live as long as the
/// process. One thread keeps this process's bounding set (<see cref="Default"/>); a plan may ask for a thread whose
/// bounding set is already the one its CAPSET op sets (<see cref="For"/>).
/// </summary>
/// <remarks>
/// <para>
/// Why per bounding set: the bounding set is per thread and a clone inherits its parent thread's. Dropping it in the
/// child costs one credential commit (a copy of the child's credentials and an RCU grace period's free) per
/// capability, 27 per start for the default set; a child cloned from a thread that already dropped them finds
/// nothing to drop. Only that thread's set is smaller: the other threads of the process keep theirs.
/// </para>
/// <para>
/// The process's main thread is as long-lived: a clone asked for there (with the process's bounding set) happens on
/// it, without a hand-over. A command line's one start then costs no thread start (whose caller waits for the new
/// thread to run) and no two wake-ups across CPUs; the <see cref="Default"/> thread is made only when a start comes
/// from another thread.
/// </para>
/// <para>
/// Both sides block without spinning (Monitor.Wait): a launch takes a clone's time, far longer than a spin would
/// wait, and spinning threads take the CPU the child and the other starts need.
/// </para>
/// </remarks>
internal sealed class LaunchThread
{
    private const int PR_CAPBSET_READ = 23;
    private const int PR_CAPBSET_DROP = 24;

    /// <summary>At most this many threads with a reduced bounding set; further sets launch from <see cref="Default"/>.</summary>
    private const int MaxReducedThreads = 4;

    private static readonly Lazy<LaunchThread> DefaultThread = new(() => new LaunchThread(null), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<ulong, Lazy<LaunchThread?>> Reduced = new();

    /// <summary>The sets asked for once so far, which have no thread yet (see <see cref="For"/>).</summary>
    private static readonly ConcurrentDictionary<ulong, byte> AskedOnce = new();

    private readonly Queue<WorkItem> _pending = new();
    private readonly ulong? _boundingSet;
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The thread itself, started by the first hand-over (or at once for a reduced set, which it makes).</summary>
    private readonly Lazy<Thread> _thread;

    private LaunchThread(ulong? boundingSet)
    {
        _boundingSet = boundingSet;
        _thread = new(
            () =>
            {
                var thread = new Thread(Loop)
                {
                    IsBackground = true,

                    // comm holds 15 bytes: "containers-launch" and "containers-lbnd" (a reduced bounding set) tell them apart.
                    Name = boundingSet is null ? "containers-launch" : "containers-lbnd",
                };
                thread.Start();
                return thread;
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Whether the calling thread is the process's main thread, where <see cref="Run"/> clones without a hand-over.</summary>
    public static bool OnMainThread => LibC.gettid() == Environment.ProcessId;

    /// <summary>The thread that keeps this process's bounding set.</summary>
    public static LaunchThread Default => DefaultThread.Value;

    /// <summary>The bounding set this thread's clones start with; null: the process's own.</summary>
    public ulong? BoundingSet => _boundingSet;

    /// <summary>
    /// The thread to clone a child from whose plan sets the bounding set to <paramref name="boundingSet"/>: one whose
    /// own bounding set is already that (created the second time the set is asked for), or <see cref="Default"/> when
    /// there is none (no set asked for, the set's first start, this process lacks CAP_SETPCAP, or too many sets were
    /// asked for). Either is correct: the child drops what its thread still has.
    /// </summary>
    /// <remarks>
    /// The first start with a set launches from <see cref="Default"/>: a thread made for it would drop the same
    /// capabilities the child drops, one credential commit each, and cost a thread start and a hand-over besides, all
    /// for nothing in a process that starts one container (the command line's <c>run</c>). From the second start on,
    /// the thread saves each child its drops.
    /// </remarks>
    public static LaunchThread For(ulong? boundingSet)
    {
        if (boundingSet is not { } set)
        {
            return Default;
        }

        if (!Reduced.TryGetValue(set, out var entry))
        {
            if (Reduced.Count >= MaxReducedThreads || (AskedOnce.Count < 64 && AskedOnce.TryAdd(set, 0)))
            {
                return Default;
            }

            entry = Reduced.GetOrAdd(set, s => new Lazy<LaunchThread?>(() => Create(s), LazyThreadSafetyMode.ExecutionAndPublication));
        }

        return entry.Value ?? Default;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this thread and returns its result; on the process's main thread instead when
    /// called there and this thread keeps the process's bounding set (the main thread's own).
    /// </summary>
    public T Run<T>(Func<T> work)
    {
        if (_boundingSet is null && OnMainThread)
        {
            return work();
        }

        _ = _thread.Value;
        var item = new WorkItem(() => work());
        lock (_pending)
        {
            _pending.Enqueue(item);
            Monitor.Pulse(_pending);
        }

        lock (item)
        {
            while (!item.Done)
            {
                Monitor.Wait(item);
            }
        }

        if (item.Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error);
        }

        return (T)item.Result!;
    }

    /// <summary>A thread with bounding set <paramref name="set"/>, or null when its bounding set could not be reduced.</summary>
    private static LaunchThread? Create(ulong set)
    {
        var thread = new LaunchThread(set);
        _ = thread._thread.Value;
        return thread._ready.Task.GetAwaiter().GetResult() ? thread : null;
    }

    /// <summary>
    /// Drops every capability outside the wanted set from this thread's bounding set. The first drop fails with EPERM
    /// without CAP_SETPCAP, before anything changed; false then (and on any other failure: the thread is not used).
    /// </summary>
    private static bool ReduceBoundingSet(ulong set)
    {
        for (var cap = 0; cap < 64; cap++)
        {
            var present = LibC.prctl(PR_CAPBSET_READ, (nuint)cap, 0, 0, 0);
            if (present < 0)
            {
                // EINVAL: past the kernel's last capability.
                return Marshal.GetLastPInvokeError() == Errno.EINVAL;
            }

            if (present > 0 && (set & (1UL << cap)) == 0 && LibC.prctl(PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private void Loop()
    {
        if (_boundingSet is { } set)
        {
            var reduced = ReduceBoundingSet(set);
            _ready.SetResult(reduced);
            if (!reduced)
            {
                // Nothing is ever cloned from this thread: it may end.
                return;
            }
        }

        while (true)
        {
            WorkItem item;
            lock (_pending)
            {
                while (_pending.Count == 0)
                {
                    Monitor.Wait(_pending);
                }

                item = _pending.Dequeue();
            }

            try
            {
                item.Result = item.Work();
            }
            catch (Exception e)
            {
                item.Error = e;
            }

            lock (item)
            {
                item.Done = true;
                Monitor.Pulse(item);
            }
        }
    }

    private sealed class WorkItem(Func<object?> work)
    {
        public Func<object?> Work { get; } = work;

        public bool Done { get; set; }

        public object? Result { get; set; }

        public Exception? Error { get; set; }
    }
}
