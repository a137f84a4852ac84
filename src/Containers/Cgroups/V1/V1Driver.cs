using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>
/// cgroup v1 (legacy and hybrid layouts): one hierarchy per controller. A container gets a cgroup in every
/// hierarchy this runtime uses, so that stats, pause, kill and later updates work whatever its limits; its process
/// moves itself in, first thing after the clone (v1 has no CLONE_INTO_CGROUP; see <see cref="Runtime.Plan.CgroupStep"/>).
/// </summary>
internal sealed class V1Driver : ICgroupDriver
{
    /// <summary>The controllers a container's cgroup spans, where the host mounts them.</summary>
    private static readonly string[] Controllers =
        [V1Freezer.Name, V1Devices.Name, V1Memory.Name, V1Pids.Name, V1Cpu.Name, V1CpuAcct.Name, V1Cpuset.Name, V1Blkio.Name];

    private static readonly LinuxResources NoLimits = new();
    private readonly Dictionary<string, string> _parents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _own = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly bool _defaultParent;
    private readonly HashSet<string> _parentsMade = new(StringComparer.Ordinal);
    private readonly string[] _hierarchies;

    public V1Driver(CgroupLayout layout, Dictionary<string, string> mounts, Dictionary<string, string> own, string? parent, string name)
    {
        Layout = layout;
        Parent = parent ?? name;
        _defaultParent = parent is null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var controller in Controllers)
        {
            // Hierarchies mounted with several controllers (cpu,cpuacct) are one directory tree: use it once.
            if (mounts.TryGetValue(controller, out var mount) && seen.Add(mount))
            {
                var ownPath = own.GetValueOrDefault(controller, "/");
                _own[controller] = mount + CgroupDriver.Combine(ownPath, "");
                _parents[controller] = mount + (parent is null ? CgroupDriver.Combine(ownPath, name) : CgroupDriver.Combine(parent, ""));
            }
        }

        _hierarchies = [.. _parents.Keys];
    }

    public CgroupLayout Layout { get; }

    public bool ClonesIntoCgroup => false;

    public IReadOnlyList<string> Hierarchies => _hierarchies;

    public string Parent { get; }

    public void Validate(LinuxResources resources)
    {
        // OCI: a runtime on a v1 host must fail on unified keys rather than drop them; first, since root would not help.
        if (resources.Unified.Keys.FirstOrDefault() is { } key)
        {
            throw new CgroupException(UnifiedResources.PathOf(key), key == UnifiedResources.MemoryHigh
                ? "cgroup v1 has no memory.high (a throttle without OOM kills is cgroup v2's), and this host's resource controllers are cgroup v1: run on a cgroup v2 host, or use linux.resources.memory.limit and reservation"
                : "linux.resources.unified holds cgroup v2 files, and this host's resource controllers are cgroup v1: run on a cgroup v2 host, or remove the setting");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new CgroupException("linux.resources",
                "cgroup v1 cannot hand a subtree to an unprivileged user, so limits need root here: run as root, or on a host with cgroup v2 and a delegated cgroup");
        }

        Require(V1Freezer.Name, "linux.resources", "pausing and killing a container");
        Require(V1Devices.Name, "linux.resources.devices", "the device allowlist");
        if (!resources.HugepageLimits.IsEmpty)
        {
            throw new CgroupException("linux.resources.hugepageLimits",
                "hugetlb limits are applied on cgroup v2 only, and this host's resource controllers are cgroup v1: run on a cgroup v2 host, or remove the setting");
        }

        if (resources.Memory is { } memory)
        {
            V1Memory.Validate(Require(V1Memory.Name, "linux.resources.memory", "memory limits"), memory);
        }

        if (V1Cpu.Needed(resources))
        {
            V1Cpu.Validate(Require(V1Cpu.Name, "linux.resources.cpu", "CPU shares and quota"), resources.Cpu!);
        }

        if (V1Cpuset.Needed(resources))
        {
            Require(V1Cpuset.Name, "linux.resources.cpu", "cpus and mems");
            V1Cpuset.Validate(resources.Cpu!);
        }

        if (V1Pids.Needed(resources))
        {
            Require(V1Pids.Name, "linux.resources.pids", "the task limit");
        }

        if (resources.BlockIO is { } io)
        {
            V1Blkio.Validate(Require(V1Blkio.Name, "linux.resources.blockIO", "block I/O limits"), io);
        }
    }

    public ICgroup Create(string name, LinuxResources resources)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (controller, parent) in _parents)
            {
                MakeDirectory(controller, parent, Path.Combine(parent, name), paths);
            }

            var cgroup = new V1Cgroup(paths);
            cgroup.Apply(resources, create: true);
            return cgroup;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(paths.Values);
            throw new CgroupException(null, $"creating the cgroup '{name}' failed: {e.Message}", e);
        }
        catch
        {
            Remove(paths.Values);
            throw;
        }
    }

    public ICgroup Open(IReadOnlyDictionary<string, string> paths) => new V1Cgroup(paths);

    /// <summary>
    /// Makes a released container's empty cgroup the new cgroup <paramref name="name"/>. A hierarchy's directory that
    /// reads as a new one's once its limits are lifted and its counters zeroed is renamed, with the files the former
    /// cgroup kept open (each controller's <c>Renew</c> says which reads as new, through those files: a pread each);
    /// any other is removed and made again. The memory and cpuacct directories are always made again:
    /// <c>memory.stat</c>'s event counters, the page cache and kernel objects charged to the cgroup, and
    /// <c>cpuacct.stat</c> cannot be zeroed. Renaming keeps a former container's paths from reaching the new one.
    /// </summary>
    /// <returns>The cgroup, or null when <paramref name="used"/> is not this driver's, or its freezer still holds a process (the caller removes it).</returns>
    /// <exception cref="CgroupException">A rename, removal or mkdir failed (a directory made again still held a process); what was made is removed, and what is left of <paramref name="used"/> is the caller's to remove.</exception>
    public ICgroup? Recycle(ICgroup used, string name)
    {
        var old = used.Paths;
        if (used is not V1Cgroup { Files: var files }
            || old.Count != _parents.Count
            || _parents.Any(p => !old.TryGetValue(p.Key, out var dir) || Path.GetDirectoryName(dir) != p.Value))
        {
            return null;
        }

        var nextFiles = new CgroupFiles();
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            // The freezer first: the container's processes are in every hierarchy, and a view that kept the former
            // cgroup's files open checks, after reading, that its freezer directory is still there (V1Cgroup.ReadStats).
            foreach (var (controller, parent) in _parents.OrderBy(p => p.Key != V1Freezer.Name))
            {
                var from = old[controller];
                var to = Path.Combine(parent, name);
                if (controller == V1Freezer.Name && !IsEmpty(files, controller, from))
                {
                    nextFiles.Dispose();
                    return null;
                }

                if (Renew(files, controller, from) && (controller == V1Freezer.Name || IsEmpty(files, controller, from)))
                {
                    Linux.LibC.Rename(from, to);
                    paths[controller] = to;
                    files.MoveTo(nextFiles, from, to);
                    if (controller == V1Cpuset.Name)
                    {
                        // The parent's CPUs and nodes, which the next renewal compares with, stay open too.
                        files.MoveTo(nextFiles, parent, parent);
                    }

                    continue;
                }

                // A directory that still holds a process is busy: the removal fails, and so does the recycling. So
                // one that is not renamed needs no look at its processes first.
                Directory.Delete(from);
                MakeDirectory(controller, parent, to, paths);
                if (controller == V1Devices.Name)
                {
                    V1Devices.Apply(to, NoLimits, reset: true);
                }
            }

            return new V1Cgroup(paths, nextFiles);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CgroupException)
        {
            nextFiles.Dispose();
            Remove(paths.Values);
            throw new CgroupException(null, $"recycling the cgroup '{name}' failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether a directory to be renamed holds no process. pids' renewal already asks that its count of tasks be 0 (a
    /// stricter test: a zombie leaves <c>cgroup.procs</c> at its exit and the count when it is reaped). Any other's
    /// <c>cgroup.procs</c> is read afresh (<see cref="CgroupFiles.HasProcesses"/>).
    /// </summary>
    private static bool IsEmpty(CgroupFiles files, string controller, string dir) => controller == V1Pids.Name || !files.HasProcesses(dir);

    private static bool Renew(CgroupFiles files, string controller, string dir) => controller switch
    {
        V1Freezer.Name => V1Freezer.Renew(files, dir),
        V1Devices.Name => V1Devices.Renew(files, dir),
        V1Pids.Name => V1Pids.Renew(files, dir),
        V1Cpu.Name => V1Cpu.Renew(files, dir),
        V1Cpuset.Name => V1Cpuset.Renew(files, dir),
        V1Blkio.Name => V1Blkio.Renew(files, dir),
        _ => false,
    };

    public int RemoveStale(Func<string, bool> isLive)
    {
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parent in _parents.Values)
        {
            foreach (var dir in CgroupParents.Children(parent))
            {
                var name = Path.GetFileName(dir);
                if (!isLive(name) && CgroupFile.ReadProcs(dir).Count == 0)
                {
                    try
                    {
                        Directory.Delete(dir);
                        removed.Add(name);
                    }
                    catch (IOException)
                    {
                        // Busy (a process joined meanwhile) or gone: nothing stale to remove.
                    }
                }
            }
        }

        if (_defaultParent)
        {
            foreach (var parent in _parents.Values)
            {
                CgroupParents.RemoveEmptySiblings(parent);
            }
        }

        return removed.Count;
    }

    public void RemoveEmptyParent()
    {
        lock (_gate)
        {
            Remove(_parents.Values);
            _parentsMade.Clear();
        }
    }

    private string Require(string controller, string field, string what)
    {
        if (!_own.TryGetValue(controller, out var dir))
        {
            throw new CgroupException(field, $"{what} need{(what.EndsWith('s') ? "" : "s")} the cgroup v1 '{controller}' controller, which this host does not mount: mount it under /sys/fs/cgroup, or remove the setting");
        }

        return dir;
    }

    /// <summary>
    /// Makes a cgroup's directory in one hierarchy and records it in <paramref name="paths"/> at once, so that a
    /// failure after it removes it too; a new v1 cpuset then gets its parent's CPUs and nodes, without which no task
    /// can join it.
    /// </summary>
    private void MakeDirectory(string controller, string parent, string dir, Dictionary<string, string> paths)
    {
        MakeBelowParent(controller, parent, dir);
        paths[controller] = dir;
        if (controller == V1Cpuset.Name)
        {
            V1Cpuset.Inherit(dir);
        }
    }

    /// <summary>
    /// Makes <paramref name="dir"/> in <paramref name="parent"/>, making the parent first when this driver has not yet
    /// or it is gone: another runtime's open may sweep it as an empty leftover at any moment before the child is in
    /// it (mkdir then fails with ENOENT), and once the child is, it cannot be removed (rmdir fails with EBUSY).
    /// </summary>
    private void MakeBelowParent(string controller, string parent, string dir)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                EnsureParent(controller, parent);
                if (Linux.LibC.MakeDirectory(dir))
                {
                    return;
                }
            }
            catch (Exception e) when (CgroupParents.IsGone(e) && attempt < 5)
            {
                // Swept while its CPUs were copied (an old parent another process had made).
            }

            lock (_gate)
            {
                _parentsMade.Remove(parent);
            }

            if (attempt == 5)
            {
                throw new DirectoryNotFoundException($"{parent} was removed each time it was made");
            }
        }
    }

    private void EnsureParent(string controller, string parent)
    {
        lock (_gate)
        {
            if (_parentsMade.Contains(parent))
            {
                return;
            }

            Directory.CreateDirectory(parent);
            if (controller == V1Cpuset.Name)
            {
                V1Cpuset.Inherit(parent);
            }

            _parentsMade.Add(parent);
        }
    }

    private static void Remove(IEnumerable<string> dirs)
    {
        foreach (var dir in dirs)
        {
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException)
            {
                // Already gone, or a process got in (impossible before the launch): leave it for the stale sweep.
            }
        }
    }
}
