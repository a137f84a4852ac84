using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

internal static unsafe partial class FdPoller
{
    /// <summary>Waits for <paramref name="pidfd"/>'s process to end, as the exit of <paramref name="group"/>.</summary>
    public static Task WaitExitAsync(SafeFileHandle pidfd, ExitGroup group) =>
        Register(new Registration(pidfd, group, isExit: true), LibC.EPOLLIN, CancellationToken.None);

    /// <summary>Completes when <paramref name="fd"/> is readable; its end of file may be held back until <paramref name="group"/>'s exit.</summary>
    public static Task WaitReadableAsync(SafeFileHandle fd, ExitGroup group, CancellationToken cancellationToken) =>
        Register(new Registration(fd, group, isExit: false), LibC.EPOLLIN, cancellationToken);

    /// <summary>
    /// The waits of one process whose owner reads its output only up to its exit (a run): the pidfd and the output
    /// pipes. The kernel closes an ending process's files before it signals its pidfd, so three wake-ups would reach
    /// the owner for one exit, each a pool thread's scheduling delay. A pipe whose writers have all gone while the
    /// exit has not come yet is held back instead, and completed with the exit on the one pool thread that wakes for
    /// it, before the exit's own waiter, which then finds the output already read. A pipe with data and a writer
    /// still there is never held, so a writer never waits for a reader; a pipe still held open by another process
    /// after the exit completes on its own.
    /// </summary>
    /// <remarks>
    /// Only for an owner that does not need the end of output before the exit: a process that closes its output and
    /// goes on running has its end of file delivered when it ends. Its state is the poller thread's alone; a held
    /// wait stays registered, so cancelling it completes it as any other.
    /// </remarks>
    public sealed class ExitGroup
    {
        private readonly List<ulong> _held = [];
        private bool _exited;
        private int _heldCount;

        /// <summary>How many waits have been held back for the exit and not yet completed with it (they may have been cancelled).</summary>
        public int HeldCount => Volatile.Read(ref _heldCount);

        /// <summary>On the poller thread: whether <paramref name="registration"/>, just reported, waits for the exit instead.</summary>
        internal bool TryHold(ulong id, Registration registration)
        {
            if (registration.IsExit || _exited || !HungUp(registration.Fd))
            {
                return false;
            }

            _held.Add(id);
            Volatile.Write(ref _heldCount, _held.Count);
            return true;
        }

        /// <summary>On the poller thread, at the exit: the held waits not cancelled meanwhile, now taken.</summary>
        internal List<Registration>? TakeHeld()
        {
            _exited = true;
            List<Registration>? taken = null;
            foreach (var id in _held)
            {
                if (Registrations.TryRemove(id, out var registration))
                {
                    (taken ??= []).Add(registration);
                }
            }

            _held.Clear();
            Volatile.Write(ref _heldCount, 0);
            return taken;
        }

        private static bool HungUp(SafeFileHandle fd)
        {
            // The registration holds a reference: the fd is open.
            var poll = new LibC.PollFd { Fd = (int)fd.DangerousGetHandle(), Events = LibC.POLLIN };
            return LibC.poll(&poll, 1, 0) == 1 && (poll.Revents & LibC.POLLHUP) != 0;
        }
    }
}
