using System.Text;
using Containers.Linux;

namespace Containers.Cgroups;

/// <summary>Detects the host's cgroup layout and picks the driver for it.</summary>
internal static class CgroupDriver
{
    private const long Cgroup2SuperMagic = 0x63677270;
    private const long TmpfsMagic = 0x01021994;

    /// <summary>What <c>/sys/fs/cgroup</c> is: cgroup2 (unified), or a tmpfs of v1 hierarchies with (hybrid) or without (legacy) a cgroup2 mount at <c>unified</c>; null without cgroups.</summary>
    public static CgroupLayout? DetectLayout()
    {
        var root = LibC.FileSystemType("/sys/fs/cgroup");
        if (root == Cgroup2SuperMagic)
        {
            return CgroupLayout.Unified;
        }

        if (root != TmpfsMagic)
        {
            return null;
        }

        return LibC.FileSystemType("/sys/fs/cgroup/unified") == Cgroup2SuperMagic ? CgroupLayout.Hybrid : CgroupLayout.Legacy;
    }

    /// <summary>
    /// The driver for this host. Containers' cgroups go below <paramref name="parent"/> (relative to each
    /// hierarchy's root), or by default below this process's own cgroup in a folder named after
    /// <paramref name="stateDirectory"/>, so that runtimes with different state directories never touch each other's.
    /// </summary>
    /// <exception cref="CgroupException">The host has no cgroups, or <paramref name="parent"/> is a hierarchy's root.</exception>
    public static ICgroupDriver Detect(string? parent, string stateDirectory)
    {
        var layout = DetectLayout() ?? throw new CgroupException(null, "/sys/fs/cgroup holds no cgroup hierarchies: mount cgroup2 (or the v1 hierarchies) there to use limits");
        if (parent is not null && parent.Trim('/').Length == 0)
        {
            throw new CgroupException(null, $"the cgroup parent '{parent}' is a hierarchy's root, where this runtime never writes: name a cgroup below it");
        }

        var own = HostCgroups.OwnCgroups();
        var name = ParentPrefix + ParentHash(Path.GetFullPath(stateDirectory));
        return layout == CgroupLayout.Unified
            ? new V2.V2Driver("/sys/fs/cgroup", parent ?? Combine(V2.V2Leaf.OwnBase(own.GetValueOrDefault("", "/")), name), parent is null)
            : new V1.V1Driver(layout, HostCgroups.V1Mounts(), own, parent, name);
    }

    /// <summary>How the default parents' names start: a hash of the state directory follows.</summary>
    public const string ParentPrefix = "containers-net-";

    /// <summary>
    /// 12 hex digits of the 64-bit FNV-1a hash of <paramref name="stateDirectory"/>: a name, not a secret, so no
    /// cryptographic hash (loading the system's crypto library was a sixth of a short CLI run's CPU time).
    /// </summary>
    internal static string ParentHash(string stateDirectory)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(stateDirectory))
        {
            hash = (hash ^ b) * 0x100000001b3UL;
        }

        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)[..12];
    }

    /// <summary>
    /// The cgroup whose directories a state recorded, of the version they show (v2's one directory has the key
    /// <c>""</c>), without detecting the host: a process that did not make the container reads its freezer this way.
    /// </summary>
    public static ICgroup Open(IReadOnlyDictionary<string, string> paths) =>
        paths.TryGetValue("", out var unified) ? new V2.V2Cgroup(unified) : new V1.V1Cgroup(paths);

    /// <summary>Joins cgroup paths, always rooted at <c>/</c>.</summary>
    public static string Combine(string parent, string child) => "/" + (parent.Trim('/') + "/" + child.Trim('/')).Trim('/');
}
