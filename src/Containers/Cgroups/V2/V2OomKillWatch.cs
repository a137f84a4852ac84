using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups.V2;

/// <summary>
/// OOM kills of a v2 cgroup as they happen: <c>memory.events</c> raises a "modified" notification (EPOLLPRI) on
/// every change of its counters, and reading it through the same fd re-arms it. Reading before each wait means a
/// change between the read and the wait still wakes it.
/// </summary>
internal sealed class V2OomKillWatch : IOomKillWatch
{
    private readonly SafeFileHandle _events;
    private readonly byte[] _buffer = new byte[512];

    public V2OomKillWatch(string dir)
    {
        _events = LibC.OpenReadOnly(Path.Combine(dir, "memory.events"));
    }

    public async Task<long> NextAsync(long seen, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = RandomAccess.Read(_events, _buffer, 0);
            var kills = CgroupFile.Key(System.Text.Encoding.ASCII.GetString(_buffer, 0, read), "oom_kill") ?? 0;
            if (kills > seen)
            {
                return kills;
            }

            await FdPoller.WaitAsync(_events, LibC.EPOLLPRI, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _events.Dispose();
}
