using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// One epoll thread for the whole process: awaits an fd becoming readable (a pidfd when its process exits, a
/// pipe when data or EOF arrives, an eventfd when signaled) or a cgroup file changing, without blocking a thread per wait.
/// </summary>
internal static unsafe class FdPoller
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
    public static Task WaitAsync(SafeFileHandle fd, uint events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var epoll = Epoll.Value;
        var registration = new Registration(fd);
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
                    removed.Complete(epoll, cancellationToken);
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
                if (Registrations.TryRemove(ids[i], out var registration))
                {
                    registration.Complete(epoll, CancellationToken.None);
                }
            }
        }
    }

    private sealed class Registration(SafeFileHandle fd)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Cancellation { get; set; }

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
