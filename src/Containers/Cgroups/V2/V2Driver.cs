using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>
/// cgroup v2 (the unified layout): one hierarchy. Controllers reach a container's cgroup through every ancestor's
/// <c>cgroup.subtree_control</c>; the no-internal-processes rule forbids that in a non-root cgroup that holds
/// processes, so the default parent's own parent (this process's cgroup) must be the root or hold no process but
/// delegate. The child is cloned straight into its cgroup (<c>CLONE_INTO_CGROUP</c>): it never runs outside it.
/// </summary>
internal sealed class V2Driver : ICgroupDriver
{
    private static readonly string[] Controllers = [V2Memory.Name, V2Cpu.Name, V2Cpuset.Name, V2Pids.Name, V2Io.Name, V2Hugetlb.Name];
    private readonly string _mount;
    private readonly string _parentDir;
    private readonly Lock _gate = new();
    private readonly bool _defaultParent;
    private bool _parentMade;

    public V2Driver(string mount, string parent, bool defaultParent)
    {
        _defaultParent = defaultParent;
        _mount = mount;
        Parent = parent;
        _parentDir = mount + CgroupDriver.Combine(parent, "");
    }

    public CgroupLayout Layout => CgroupLayout.Unified;

    public bool ClonesIntoCgroup => true;

    public IReadOnlyList<string> Hierarchies => [];

    public string Parent { get; }

    public void Validate(LinuxResources resources)
    {
        var available = AvailableControllers();
        V2Devices.Validate(resources);

        if (resources.Memory is { } memory)
        {
            Require(available, V2Memory.Name, "linux.resources.memory");
            V2Memory.Validate(memory);
        }

        if (resources.Unified.ContainsKey(UnifiedResources.MemoryHigh))
        {
            Require(available, V2Memory.Name, UnifiedResources.PathOf(UnifiedResources.MemoryHigh));
        }

        if (V2Cpu.Needed(resources))
        {
            Require(available, V2Cpu.Name, "linux.resources.cpu");
        }

        if (resources.Cpu is { Cpus: not null } or { Mems: not null })
        {
            Require(available, V2Cpuset.Name, "linux.resources.cpu");
            V1.V1Cpuset.Validate(resources.Cpu);
        }

        if (resources.Pids is not null)
        {
            Require(available, V2Pids.Name, "linux.resources.pids");
        }

        if (!resources.HugepageLimits.IsEmpty)
        {
            Require(available, V2Hugetlb.Name, "linux.resources.hugepageLimits");
            V2Hugetlb.Validate(resources.HugepageLimits);
        }

        if (resources.BlockIO is { } io)
        {
            Require(available, V2Io.Name, "linux.resources.blockIO");
            V2Io.Validate(ExistingAncestor(), io);
        }

        var writable = ExistingAncestor();
        if (!Environment.IsPrivilegedProcess && !CanWrite(writable))
        {
            throw new CgroupException("linux.resources",
                $"the cgroup {writable} is not delegated to this user: run in a systemd user slice with delegation (systemd-run --user -p Delegate=yes) or name a writable cgroup in ContainerRuntimeOptions.CgroupParent");
        }
    }

    public ICgroup Create(string name, LinuxResources resources)
    {
        var dir = Path.Combine(_parentDir, name);
        try
        {
            // Not Directory.CreateDirectory: a parent a runtime's open swept while it was empty (mkdir fails with
            // ENOENT) must be made again with its controllers delegated, not silently as a bare directory. Once the
            // container's cgroup is in it, the parent cannot be removed (rmdir fails with EBUSY).
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    EnsureParent();
                    if (Linux.LibC.MakeDirectory(dir))
                    {
                        break;
                    }
                }
                catch (Exception e) when (CgroupParents.IsGone(e) && attempt < 5)
                {
                    // Swept while its controllers were handed down (an old parent another process had made).
                }

                lock (_gate)
                {
                    _parentMade = false;
                }

                if (attempt == 5)
                {
                    throw new DirectoryNotFoundException($"{_parentDir} was removed each time it was made");
                }
            }

            // The parent may be one another process made again after a sweep and has not yet handed its
            // controllers down (its mkdir and its cgroup.subtree_control write are two steps): hand them down here,
            // as often as it takes. With this cgroup in it, the parent can no longer be swept, so once this returns
            // it is the parent that delegates, and the limits' files exist.
            Delegate(_parentDir);
            var cgroup = new V2Cgroup(dir);
            cgroup.Apply(resources, create: true);
            return cgroup;
        }
        catch (Exception e)
        {
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException)
            {
            }

            if (e is IOException or UnauthorizedAccessException)
            {
                throw new CgroupException(null, $"creating the cgroup {dir} failed: {e.Message}", e);
            }

            throw;
        }
    }

    public ICgroup Open(IReadOnlyDictionary<string, string> paths) => new V2Cgroup(paths[""]);

    /// <summary>Never: v2 cannot zero a cgroup's counters (<c>cpu.stat</c>, <c>memory.events</c>, <c>memory.stat</c>, <c>io.stat</c>).</summary>
    public ICgroup? Recycle(ICgroup used, string name) => null;

    public int RemoveStale(Func<string, bool> isLive)
    {
        var removed = 0;
        foreach (var dir in CgroupParents.Children(_parentDir))
        {
            if (!isLive(Path.GetFileName(dir)) && !V2Freezer.IsPopulated(dir))
            {
                try
                {
                    Directory.Delete(dir);
                    removed++;
                }
                catch (IOException)
                {
                }
            }
        }

        if (_defaultParent)
        {
            CgroupParents.RemoveEmptySiblings(_parentDir);
        }

        return removed;
    }

    public void RemoveEmptyParent()
    {
        lock (_gate)
        {
            try
            {
                Directory.Delete(_parentDir);
            }
            catch (IOException)
            {
                // Containers of it are still there, or it is gone.
            }

            _parentMade = false;
        }
    }

    /// <summary>
    /// Creates the parent and hands it every controller the host offers, through each ancestor that lacks it and this
    /// process may write (unprivileged, only the cgroups delegated to it).
    /// </summary>
    private void EnsureParent()
    {
        lock (_gate)
        {
            if (_parentMade)
            {
                return;
            }

            var relative = Parent.Trim('/').Split('/');
            var dir = _mount;
            for (var i = 0; i < relative.Length; i++)
            {
                Delegate(dir);
                dir = Path.Combine(dir, relative[i]);
                Directory.CreateDirectory(dir);
            }

            Delegate(dir);
            _parentMade = true;
        }
    }

    private static void Delegate(string dir)
    {
        var offered = (CgroupFile.TryRead(dir, "cgroup.controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var enabled = (CgroupFile.TryRead(dir, "cgroup.subtree_control") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var missing = Controllers.Where(c => offered.Contains(c) && !enabled.Contains(c)).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        try
        {
            CgroupFile.Write(dir, "cgroup.subtree_control", string.Join(' ', missing.Select(c => "+" + c)), null);
        }
        catch (CgroupException e) when (e.InnerException is IOException && !CgroupParents.IsGone(e) && V2Leaf.MoveOwnProcesses(dir))
        {
            // This process (and its children) held the cgroup: now in a leaf below it, the cgroup may delegate.
            CgroupFile.Write(dir, "cgroup.subtree_control", string.Join(' ', missing.Select(c => "+" + c)), null);
        }
        catch (CgroupException e) when (e.InnerException is UnauthorizedAccessException && !Environment.IsPrivilegedProcess)
        {
            // Not this user's to delegate: an ancestor of the cgroup systemd delegated (a user service's
            // /user.slice, or the root, where systemd enables only the controllers some unit needs). What it lacks is
            // not offered below, and a limit that needs it is refused as not delegated, before anything is made.
        }
        catch (CgroupException e) when (e.InnerException is IOException && !CgroupParents.IsGone(e))
        {
            throw new CgroupException(null,
                $"cannot hand the {string.Join(", ", missing)} controllers to the children of {dir}: it holds processes other than this one and its children (cgroup v2 lets only a cgroup without processes delegate). "
                + "Start this process in a leaf cgroup and set ContainerRuntimeOptions.CgroupParent to a sibling of it", e);
        }
    }

    private string[] AvailableControllers() =>
        (CgroupFile.TryRead(ExistingAncestor(), "cgroup.controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private string ExistingAncestor()
    {
        var dir = _parentDir;
        while (!Directory.Exists(dir) && dir.Length > _mount.Length)
        {
            dir = Path.GetDirectoryName(dir)!;
        }

        return dir;
    }

    private static void Require(string[] available, string controller, string field)
    {
        if (!available.Contains(controller))
        {
            throw new CgroupException(field, $"the cgroup v2 '{controller}' controller is not available to this process's cgroup: enable it in the ancestors' cgroup.subtree_control (or ask for its delegation), or remove the setting");
        }
    }

    private static bool CanWrite(string dir)
    {
        try
        {
            using var h = File.OpenHandle(Path.Combine(dir, "cgroup.procs"), FileMode.Open, FileAccess.Write);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
