using System.Globalization;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Cgroups.V2;

/// <summary>A container's cgroup v2 directory; each controller's file does its own part.</summary>
internal sealed class V2Cgroup : ICgroup
{
    private readonly string _dir;
    private readonly CgroupFiles _files = new();

    public V2Cgroup(string dir)
    {
        _dir = dir;
        Paths = new Dictionary<string, string>(StringComparer.Ordinal) { [""] = dir };
    }

    public IReadOnlyDictionary<string, string> Paths { get; }

    public bool IsFrozen => V2Freezer.IsFrozen(_dir);

    public long OomKills => V2Memory.OomKills(_files, _dir);

    public bool HasMemory => File.Exists(Path.Combine(_dir, "memory.events"));

    public IOomKillWatch WatchOomKills() => new V2OomKillWatch(_dir);

    public SafeFileHandle OpenDirectory() => LibC.OpenDirectory(_dir);

    public SafeFileHandle OpenTasks(string hierarchy) => throw new NotSupportedException("cgroup v2 clones a process into its cgroup (CLONE_INTO_CGROUP)");

    /// <summary>
    /// The OOM counter read when the process exits. The process is cloned into the cgroup (no <c>cgroup.procs</c> to
    /// write), and v2 starts were within their target without more.
    /// </summary>
    public void OpenAhead() => _files.OpenAhead(_dir, [], ["memory.events"]);

    public void Update(LinuxResources resources) => Apply(resources, create: false);

    /// <summary>Writes <paramref name="resources"/>; a new cgroup also gets the device program when the spec has no rules.</summary>
    public void Apply(LinuxResources resources, bool create)
    {
        if (create || !resources.Devices.IsEmpty)
        {
            V2Devices.Apply(_dir, resources);
        }

        if (resources.Memory is { } memory)
        {
            V2Memory.Apply(_dir, memory);
        }

        V2Memory.ApplyHigh(_dir, resources);

        if (resources.Cpu is { } cpu)
        {
            V2Cpu.Apply(_dir, cpu);
            V2Cpuset.Apply(_dir, cpu);
        }

        if (resources.Pids is { } pids)
        {
            V2Pids.Apply(_dir, pids);
        }

        if (resources.BlockIO is { } io)
        {
            V2Io.Apply(_dir, io);
        }

        if (!resources.HugepageLimits.IsEmpty)
        {
            V2Hugetlb.Apply(_dir, resources.HugepageLimits);
        }
    }

    public Task FreezeAsync(CancellationToken cancellationToken) => V2Freezer.FreezeAsync(_dir, cancellationToken);

    public void Thaw() => V2Freezer.Thaw(_dir);

    public async Task KillAllAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(_dir, "cgroup.kill")))
        {
            CgroupFile.Write(_dir, "cgroup.kill", "1", null);
        }
        else
        {
            await FreezeAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var pid in CgroupFile.ReadProcs(_dir))
                {
                    LibC.kill(pid, 9);
                }
            }
            finally
            {
                Thaw();
            }
        }

        for (var attempt = 0; attempt < 500 && V2Freezer.IsPopulated(_dir); attempt++)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    public MemoryInForce ReadMemoryInForce() => HasMemory
        ? new(MemoryInForce.Set(_files.TryReadNumber(_dir, "memory.max")), MemoryInForce.Set(_files.TryReadNumber(_dir, "memory.low")), MemoryInForce.Set(_files.TryReadNumber(_dir, UnifiedResources.MemoryHigh)))
        : default;

    public ContainerStats ReadStats()
    {
        var memory = V2Memory.Read(_files, _dir);
        var cpu = V2Cpu.Read(_files, _dir);
        var (pids, pidsLimit) = V2Pids.Read(_files, _dir);
        var io = V2Io.Read(_files, _dir);
        return new ContainerStats
        {
            Time = DateTimeOffset.UtcNow,
            Memory = new(memory.Usage, memory.Peak, memory.Limit, memory.OomKills) { HighEvents = memory.HighEvents },
            Cpu = new(Us(cpu.Usage), Us(cpu.User), Us(cpu.System), cpu.Periods, cpu.Throttled, Us(cpu.ThrottledUs)),
            Pids = new(pids, pidsLimit),
            Io = new(io.ReadBytes, io.WriteBytes, io.ReadOps, io.WriteOps),
            Pressure = V2Pressure.Read(_files, _dir),
        };
    }

    public void Dispose() => _files.Dispose();

    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(_dir) && V2Freezer.IsPopulated(_dir))
        {
            await KillAllAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!await CgroupFile.RemoveAsync(_dir, cancellationToken).ConfigureAwait(false))
        {
            throw new CgroupException(null, $"the container's cgroup still holds processes and was left in place: {_dir}");
        }
    }

    private static TimeSpan Us(long microseconds) => TimeSpan.FromTicks(microseconds * 10);
}
