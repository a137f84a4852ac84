using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// Mounts and devices, in a new mount namespace only: the spec's mounts in order (each mount point created in the
/// root, never through a link out of it), the device nodes of a tmpfs <c>/dev</c>, then the masked and read-only
/// paths. In a user namespace, what the kernel refuses there is bound from the host instead.
/// </summary>
internal static class MountsStep
{
    private const uint DirectoryMode = 0x1ed; // 0755
    private const uint FileMode = 0x1a4;      // 0644
    private const uint DeviceMode = 0x1b6;    // 0666
    private const uint CharDevice = 0x2000;   // S_IFCHR

    private static readonly (string Name, uint Major, uint Minor)[] Devices =
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];

    private static readonly (string Link, string Target)[] DeviceLinks =
        [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"),
         ("/dev/stderr", "/proc/self/fd/2"), ("/dev/ptmx", "pts/ptmx")];

    /// <summary>The kernel filesystems the masks rely on: where they are mounted and their statfs magic.</summary>
    private static readonly (string Path, ulong Magic)[] KernelFileSystems =
    [
        ("/proc", 0x9fa0),      // PROC_SUPER_MAGIC
        ("/sys", 0x62656572),   // SYSFS_MAGIC
    ];

    public static void Apply(PlanContext context)
    {
        if (!context.OwnsRoot)
        {
            return;
        }

        foreach (var mount in context.Spec.Mounts)
        {
            AddMount(context, mount);
        }

        // The masks and read-only paths below rely on /proc and /sys being the kernel's: a rootfs whose /proc is a
        // symlink, or a mount that hides or replaces the procfs (a fake /proc), fails the start here. Where there is
        // no /proc at all, there is nothing to mask either.
        var plan = context.Plan;
        foreach (var (path, magic) in KernelFileSystems)
        {
            if (context.Linux.MaskedPaths.Concat(context.Linux.ReadonlyPaths).Any(p => p.StartsWith(path + "/", StringComparison.Ordinal)))
            {
                plan.CheckFileSystem(path, magic);
            }
        }

        // A path that does not exist needs no mask (kernels differ in what /proc has); one that exists but cannot be
        // masked or made read-only fails the start, so a container never runs with less isolation than asked for.
        // Whether a path is a directory is decided in the child, in the container's own tree.
        foreach (var path in context.Linux.MaskedPaths)
        {
            plan.Mask(path);
        }

        foreach (var path in context.Linux.ReadonlyPaths)
        {
            plan.Bind(path, path, recursive: true, readOnly: true, sourceInRoot: true, stage: $"make {path} read-only", missingOk: true);
        }
    }

    private static void AddMount(PlanContext context, MountSpec mount)
    {
        var plan = context.Plan;
        var options = MountOptions.Parse(mount.Options);
        var target = mount.Destination;
        var isBind = options.Bind || mount.Type == "bind";
        if (isBind && mount.Source is { } source && IsFile(context.Host, source))
        {
            if (context.Files is { } files && files.Find(context.Host, target) is null)
            {
                if (Path.GetDirectoryName(target) is { } parent && parent != "/")
                {
                    plan.MakeDirectory(parent, DirectoryMode, parents: true);
                }

                plan.WriteFile(target, ReadOnlySpan<byte>.Empty, FileMode, $"create the mount point {target}");
            }
        }
        else
        {
            plan.MakeDirectory(target, DirectoryMode, parents: true, stage: $"create the mount point {target}");
        }

        context.Files = context.Files?.WithMount(target, isBind ? mount.Source : null);
        if (isBind)
        {
            plan.Bind(mount.Source!, target, options.Recursive, options.ReadOnly, options.Attributes & ~MountAttributes.ReadOnly, stage: $"bind {mount.Source} on {target}");
            return;
        }

        var inUserNamespace = context.InUserNamespace;
        var flags = context.NewNamespaces;
        switch (mount.Type)
        {
            case "sysfs" when inUserNamespace && !flags.HasFlag(CloneFlags.NewNet):
                // sysfs can only be mounted by the owner of the network namespace: show the host's, read-only.
                plan.Bind("/sys", target, recursive: true, readOnly: true, stage: $"bind /sys on {target}");
                break;
            case "proc" when inUserNamespace && !flags.HasFlag(CloneFlags.NewPid):
                // A new procfs needs the pid namespace's owner: with the host's pids, show the host's /proc.
                plan.Bind("/proc", target, recursive: true, stage: $"bind /proc on {target}");
                break;
            case "devpts" when inUserNamespace:
                // gid=5 (tty) may not be mapped in a user namespace; the kernel then refuses the mount.
                plan.Mount(mount.Source ?? "devpts", target, "devpts", options.Flags, WithoutOption(options.Data, "gid="));
                break;
            default:
                plan.Mount(mount.Source ?? mount.Type, target, mount.Type, options.Flags, options.Data);
                break;
        }

        if (target == "/dev" && mount.Type == "tmpfs")
        {
            AddDevices(context);
        }
    }

    private static void AddDevices(PlanContext context)
    {
        var plan = context.Plan;
        foreach (var (name, major, minor) in Devices)
        {
            var path = "/dev/" + name;
            if (context.InUserNamespace)
            {
                // mknod needs CAP_MKNOD in the initial user namespace: bind the host's nodes instead.
                plan.WriteFile(path, ReadOnlySpan<byte>.Empty, DeviceMode, $"create {path}");
                plan.Bind(path, path, recursive: false, stage: $"bind {path}");
            }
            else
            {
                plan.MakeNode(path, CharDevice | DeviceMode, major, minor);
            }
        }

        foreach (var (link, target) in DeviceLinks)
        {
            plan.Symlink(target, link);
        }

        if (context.NewNamespaces.HasFlag(CloneFlags.NewIpc))
        {
            plan.MakeDirectory("/dev/mqueue");
            plan.Mount("mqueue", "/dev/mqueue", "mqueue", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, optional: true);
        }
    }

    /// <summary>Whether the host path <paramref name="source"/> is a file once links are followed (a file needs a file as its mount point).</summary>
    private static bool IsFile(IHostView host, string source) =>
        RootfsPath.Resolve(host, "/", source) is { } resolved && host.Inspect(resolved) is { Kind: HostFileKind.File };

    private static string? WithoutOption(string? data, string prefix) =>
        data is null ? null : string.Join(',', data.Split(',').Where(o => !o.StartsWith(prefix, StringComparison.Ordinal))) is { Length: > 0 } rest ? rest : null;
}
