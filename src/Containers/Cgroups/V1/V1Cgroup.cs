using System.Globalization;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups.V1;

/// <summary>A container's cgroup in each v1 hierarchy; each controller's file does its own part.</summary>
internal sealed class V1Cgroup : ICgroup
{
    private const int SigKill = 9;
    private readonly IReadOnlyDictionary<string, string> _paths;
    private readonly CgroupFiles _files;

    public V1Cgroup(IReadOnlyDictionary<string, string> paths)
        : this(paths, new CgroupFiles())
    {
    }

    /// <summary>A cgroup with files already open (a recycled one's; <see cref="V1Driver.Recycle"/>).</summary>
    public V1Cgroup(IReadOnlyDictionary<string, string> paths, CgroupFiles files)
    {
        _paths = paths;
        _files = files;
    }

    public IReadOnlyDictionary<string, string> Paths => _paths;

    /// <summary>The files kept open (<see cref="V1Driver.Recycle"/> hands those of renamed directories on).</summary>
    internal CgroupFiles Files => _files;

    public bool IsFrozen => Dir(V1Freezer.Name) is { } dir && V1Freezer.IsFrozen(dir);

    public long OomKills => Dir(V1Memory.Name) is { } dir ? V1Memory.OomKills(_files, dir) : 0;

    public bool HasMemory => Dir(V1Memory.Name) is not null;

    public IOomKillWatch WatchOomKills() => Dir(V1Memory.Name) is { } dir ? new V1OomKillWatch(_files, dir)
        : throw new CgroupException("linux.resources.memory", "this container's cgroup has no memory controller to watch for OOM kills");

    public SafeFileHandle OpenDirectory() => throw new NotSupportedException("cgroup v1 has no CLONE_INTO_CGROUP: the child joins each hierarchy itself (OpenTasks)");

    public SafeFileHandle OpenTasks(string hierarchy) => _files.Open(_paths[hierarchy], "tasks", writable: true);

    /// <summary>
    /// Opens ahead the files a start writes and reads (<c>tasks</c> of each hierarchy, the memory, CPU and task
    /// limits, the OOM counter): a cgroup taken from the pool then costs its start a write per file, not a path lookup
    /// and a kernfs open too.
    /// </summary>
    public void OpenAhead()
    {
        foreach (var (controller, dir) in _paths)
        {
            _files.OpenAhead(dir, ["tasks"], []);
            switch (controller)
            {
                case V1Memory.Name:
                    _files.OpenAhead(dir, V1Memory.WrittenFiles, V1Memory.ReadFiles);
                    break;
                case V1Cpu.Name:
                    _files.OpenAhead(dir, V1Cpu.WrittenFiles, []);
                    break;
                case V1Pids.Name:
                    _files.OpenAhead(dir, V1Pids.WrittenFiles, []);
                    break;
            }
        }
    }

    public void Update(LinuxResources resources) => Apply(resources, create: false);

    public void Apply(LinuxResources resources, bool create)
    {
        if (Dir(V1Devices.Name) is { } devices && (create || !resources.Devices.IsEmpty))
        {
            V1Devices.Apply(devices, resources, reset: true);
        }

        if (resources.Memory is { } memory)
        {
            V1Memory.Apply(_files, Dir(V1Memory.Name)!, memory);
        }

        if (resources.Cpu is { } cpu)
        {
            if (V1Cpu.Needed(resources))
            {
                V1Cpu.Apply(_files, Dir(V1Cpu.Name)!, cpu);
            }

            if (V1Cpuset.Needed(resources))
            {
                V1Cpuset.Apply(Dir(V1Cpuset.Name)!, cpu);
            }
        }

        if (resources.Pids is { } pids)
        {
            V1Pids.Apply(_files, Dir(V1Pids.Name)!, pids);
        }

        if (resources.BlockIO is { } io)
        {
            V1Blkio.Apply(Dir(V1Blkio.Name)!, io);
        }
    }

    public Task FreezeAsync(CancellationToken cancellationToken) => V1Freezer.FreezeAsync(Freezer, cancellationToken);

    public void Thaw() => V1Freezer.Thaw(Freezer);

    public async Task KillAllAsync(CancellationToken cancellationToken)
    {
        // Frozen, no process can fork a child the kill below would miss; killed while frozen, each dies on thaw.
        await FreezeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var pid in CgroupFile.ReadProcs(Freezer))
            {
                LibC.kill(pid, SigKill);
            }
        }
        finally
        {
            Thaw();
        }

        for (var attempt = 0; attempt < 500 && CgroupFile.ReadProcs(Freezer).Count > 0; attempt++)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    public MemoryInForce ReadMemoryInForce() => Dir(V1Memory.Name) is { } dir
        ? new(MemoryInForce.Set(_files.TryReadNumber(dir, "memory.limit_in_bytes")), MemoryInForce.Set(_files.TryReadNumber(dir, "memory.soft_limit_in_bytes")), High: null)
        : default;

    public ContainerStats ReadStats()
    {
        var memory = Dir(V1Memory.Name) is { } m ? V1Memory.Read(_files, m) : default;
        var (total, user, system) = Dir(V1CpuAcct.Name) is { } a ? V1CpuAcct.Read(_files, a) : default;
        var (periods, throttled, throttledNs) = Dir(V1Cpu.Name) is { } c ? V1Cpu.Read(_files, c) : default;
        var (pids, pidsLimit) = Dir(V1Pids.Name) is { } p ? V1Pids.Read(_files, p) : default;
        var io = Dir(V1Blkio.Name) is { } b ? V1Blkio.Read(_files, b) : default;

        // Renamed for another container since (V1Driver.Recycle renames the freezer first), files kept open read its
        // counters now: read as a removed cgroup's, which is what this container's cgroup is.
        if (Dir(V1Freezer.Name) is { } freezer && !Directory.Exists(freezer))
        {
            return new ContainerStats
            {
                Time = DateTimeOffset.UtcNow,
                Memory = new(null, null, null, 0),
                Cpu = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, TimeSpan.Zero),
                Pids = new(null, null),
                Io = new(0, 0, 0, 0),
            };
        }

        return new ContainerStats
        {
            Time = DateTimeOffset.UtcNow,
            Memory = new(memory.Usage, memory.Peak, memory.Limit, memory.OomKills),
            Cpu = new(Ns(total), Ns(user), Ns(system), periods, throttled, Ns(throttledNs)),
            Pids = new(pids, pidsLimit),
            Io = new(io.ReadBytes, io.WriteBytes, io.ReadOps, io.WriteOps),
        };
    }

    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        if (Dir(V1Freezer.Name) is { } freezer && Directory.Exists(freezer) && CgroupFile.ReadProcs(freezer).Count > 0)
        {
            await KillAllAsync(cancellationToken).ConfigureAwait(false);
        }

        var left = new List<string>();
        foreach (var dir in _paths.Values)
        {
            if (!await CgroupFile.RemoveAsync(dir, cancellationToken).ConfigureAwait(false))
            {
                left.Add(dir);
            }
        }

        if (left.Count > 0)
        {
            throw new CgroupException(null, $"the container's cgroups still hold processes and were left in place: {string.Join(", ", left)}");
        }
    }

    public void Dispose() => _files.Dispose();

    private string Freezer => Dir(V1Freezer.Name) ?? throw new CgroupException(null, "the container has no freezer cgroup");

    private string? Dir(string controller) => _paths.GetValueOrDefault(controller);

    private static TimeSpan Ns(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);
}
