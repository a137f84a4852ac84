using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// One epoll thread for the whole process: awaits an fd becoming readable (a pidfd when its process exits, a
/// pipe when data or EOF arrives, an eventfd when signaled) or a cgroup file changing, without blocking a thread per wait.
/// </summary>
/// <remarks>
/// A wait completes on a pool thread, never on the poller's: the poller queues the completion and the awaiting code
/// goes on right there, so a wait costs one wake-up of a pool thread. The waits of one <see cref="ExitGroup"/> that
/// end with its process share that wake-up.
/// </remarks>
internal static unsafe partial class FdPoller
{
    private static readonly ConcurrentDictionary<ulong, Registration> Registrations = new();
    private static readonly Lazy<int> Epoll = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static ulong _nextId;

    /// <summary>Completes when <paramref name="fd"/> is readable (or hung up). The handle stays open meanwhile.</summary>
    public static Task WaitReadableAsync(SafeFileHandle fd, CancellationToken cancellationToken) => WaitAsync(fd, LibC.EPOLLIN, cancellationToken);

    /// <summary>
    /// Completes when <paramref name="fd"/> reports one of <paramref name="events"/> (or an error or hang-up): for a
    /// cgroup file, <see cref="LibC.EPOLLPRI"/> is the kernel's "this file changed" (kernfs_notify).
    /// </summary>
    public static Task WaitAsync(SafeFileHandle fd, uint events, CancellationToken cancellationToken) =>
        Register(new Registration(fd, null, isExit: false), events, cancellationToken);

    private static Task Register(Registration registration, uint events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var epoll = Epoll.Value;
        var fd = registration.Fd;
        var added = false;
        fd.DangerousAddRef(ref added);
        var id = Interlocked.Increment(ref _nextId);
        Registrations[id] = registration;
        var r = Shim.EpollCtl(epoll, LibC.EPOLL_CTL_ADD, (int)fd.DangerousGetHandle(), events | LibC.EPOLLONESHOT, id);
        if (r < 0)
        {
            Registrations.TryRemove(id, out _);
            fd.DangerousRelease();
            return Task.FromException(new ContainersException($"epoll_ctl failed: {Errno.Name(-r)}"));
        }

        if (cancellationToken.CanBeCanceled)
        {
            registration.Cancellation = cancellationToken.Register(() =>
            {
                if (Registrations.TryRemove(id, out var removed))
                {
                    // On a pool thread, as every completion: the canceller does not run the waiter's code.
                    ThreadPool.UnsafeQueueUserWorkItem(static s => s.Removed.Complete(s.Epoll, s.Token), (Removed: removed, Epoll: epoll, Token: cancellationToken), preferLocal: false);
                }
            });
        }

        return registration.Completion.Task;
    }

    private static int Start()
    {
        var epoll = LibC.epoll_create1(LibC.O_CLOEXEC);
        if (epoll < 0)
        {
            throw new ContainersException($"epoll_create1 failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        var thread = new Thread(() => Loop(epoll)) { IsBackground = true, Name = "containers-fd-poller" };
        thread.Start();

        // Completions run on pool threads, and a process's pool has none until its first work item: the thread that
        // queues it then starts one, waiting for it to run, and that one starts the next. Queued here, while the
        // first wait is pending (a child setting itself up), not by the first completion (a command line's exit).
        ThreadPool.UnsafeQueueUserWorkItem(static _ => { }, (object?)null, preferLocal: false);
        return epoll;
    }

    private static void Loop(int epoll)
    {
        var ids = stackalloc ulong[64];
        while (true)
        {
            var n = Shim.EpollWait(epoll, ids, 64, -1);
            for (var i = 0; i < n; i++)
            {
                if (!Registrations.TryGetValue(ids[i], out var ready) || (ready.Group is { } group && group.TryHold(ids[i], ready)))
                {
                    continue;
                }

                if (Registrations.TryRemove(ids[i], out var registration))
                {
                    registration.Before = registration.IsExit ? registration.Group!.TakeHeld() : null;
                    registration.Epoll = epoll;
                    ThreadPool.UnsafeQueueUserWorkItem(registration, preferLocal: false);
                }
            }
        }
    }

    internal sealed class Registration(SafeFileHandle fd, ExitGroup? group, bool isExit) : IThreadPoolWorkItem
    {
        /// <summary>Continuations run where it completes: always on a pool thread (see <see cref="Execute"/>).</summary>
        public TaskCompletionSource Completion { get; } = new();

        public SafeFileHandle Fd => fd;

        public ExitGroup? Group => group;

        /// <summary>Whether this is its group's exit (the pidfd), which completes the waits held back for it.</summary>
        public bool IsExit => isExit;

        public CancellationTokenRegistration Cancellation { get; set; }

        /// <summary>Held-back waits of its group to complete first, on the same thread.</summary>
        public List<Registration>? Before { get; set; }

        public int Epoll { get; set; }

        public void Execute()
        {
            foreach (var held in Before ?? [])
            {
                held.Complete(Epoll, CancellationToken.None);
            }

            Complete(Epoll, CancellationToken.None);
        }

        public void Complete(int epoll, CancellationToken canceled)
        {
            Shim.EpollCtl(epoll, LibC.EPOLL_CTL_DEL, (int)fd.DangerousGetHandle(), 0, 0);
            fd.DangerousRelease();
            Cancellation.Dispose();
            if (canceled.IsCancellationRequested)
            {
                Completion.TrySetCanceled(canceled);
            }
            else
            {
                Completion.TrySetResult();
            }
        }
    }
}
