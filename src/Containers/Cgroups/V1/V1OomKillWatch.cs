using System.Globalization;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups.V1;

/// <summary>
/// OOM kills of a v1 memory cgroup as they happen: an eventfd registered in <c>cgroup.event_control</c> for
/// <c>memory.oom_control</c> is signaled when the cgroup goes under OOM. That is before the killer has chosen a
/// victim, so after each signal the kill counter (<c>oom_kill</c>) is read again for a moment until it rises.
/// </summary>
internal sealed class V1OomKillWatch : IOomKillWatch
{
    private static readonly TimeSpan KillerGrace = TimeSpan.FromSeconds(2);
    private readonly CgroupFiles _files;
    private readonly string _dir;
    private readonly SafeFileHandle _eventFd;

    /// <param name="files">The cgroup's files: the counter is read and the registration written through those it keeps open.</param>
    /// <param name="dir">The memory cgroup's directory.</param>
    public V1OomKillWatch(CgroupFiles files, string dir)
    {
        _files = files;
        _dir = dir;
        _eventFd = LibC.EventFd();
        try
        {
            // The kernel uses the control file's fd only while it registers the event: a duplicate of the one kept
            // open for the counter, closed right after.
            using var control = files.Open(dir, "memory.oom_control", writable: false);
            files.Write(dir, "cgroup.event_control",
                string.Create(CultureInfo.InvariantCulture, $"{_eventFd.DangerousGetHandle()} {control.DangerousGetHandle()}"), null);
        }
        catch
        {
            _eventFd.Dispose();
            throw;
        }
    }

    public async Task<long> NextAsync(long seen, CancellationToken cancellationToken)
    {
        while (true)
        {
            var kills = V1Memory.OomKills(_files, _dir);
            if (kills > seen)
            {
                return kills;
            }

            await FdPoller.WaitReadableAsync(_eventFd, cancellationToken).ConfigureAwait(false);
            LibC.ReadEventFd(_eventFd);
            var deadline = DateTime.UtcNow + KillerGrace;
            while (V1Memory.OomKills(_files, _dir) <= seen && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        // Closing the eventfd unregisters it: the kernel drops the event when it sees the fd's file released.
        _eventFd.Dispose();
    }
}
