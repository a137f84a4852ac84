using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The root filesystem, in a new mount namespace only: the host rootfs (read-only binds of the host's system
/// folders on a tmpfs, with a tmpfs <c>/tmp</c> and empty <c>/run</c>, <c>/var/tmp</c> and <c>/home</c>), the
/// spec's directory bound onto itself, or an overlay of lower directories with the container's own upper and work
/// directories. Sets the root that later paths resolve beneath.
/// </summary>
internal static class RootfsStep
{
    /// <summary>The host folders the host rootfs shows (read-only), or links to when the host has merged them into <c>/usr</c>.</summary>
    public static readonly string[] HostDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

    /// <summary>Empty folders programs expect to find, with their modes (<c>/var/tmp</c> is world-writable and sticky like <c>/tmp</c>).</summary>
    public static readonly (string Path, uint Mode)[] EmptyDirectories = [("/home", 0x1ed), ("/run", 0x1ed), ("/var/tmp", 0x3ff)];

    /// <summary>The size of the host rootfs's own tmpfs and of its default <c>/tmp</c>; a spec mount at <c>/tmp</c> replaces the latter.</summary>
    public const string TmpfsSize = "65536k";

    private const uint DirectoryMode = 0x1ed; // 0755
    private const uint StickyWorldWritable = 0x3ff; // 01777

    /// <summary>The names of an overlay root's upper and work directories in the container's directory.</summary>
    public const string UpperDirectory = "upper";

    /// <inheritdoc cref="UpperDirectory"/>
    public const string WorkDirectory = "work";

    public static void Apply(PlanContext context)
    {
        var spec = context.Spec;
        var overlay = context.Settings.Overlay;
        if (overlay is not null && spec.Root?.Path is not null)
        {
            throw new InvalidSpecException([new SpecError("root.path", "a container with an overlay root (ContainerCreateOptions.Overlay) takes its root from the overlay: leave root.path empty")]);
        }

        if (!context.OwnsRoot)
        {
            if (spec.Root?.Path is not null || overlay is not null)
            {
                throw new InvalidSpecException([new SpecError("root", "a root filesystem needs a new mount namespace: add {\"type\": \"mount\"} to linux.namespaces")]);
            }

            // Without a mount namespace of its own the process sees the host's files as they are.
            context.Files = new ContainerFiles("/", [], []);
            return;
        }

        var plan = context.Plan;
        plan.MakePrivate();
        if (spec.Root?.Path is { } root)
        {
            // A link is fine (the kernel follows it); anything but a directory at the end fails at the bind.
            if (context.Host.Inspect(root) is not ({ Kind: HostFileKind.Directory } or { Kind: HostFileKind.SymbolicLink }))
            {
                throw new RootfsNotFoundException(root);
            }

            plan.Bind(root, root, recursive: true, stage: $"bind the root filesystem {root}");
            plan.Root(root);
            context.Files = new ContainerFiles(root, [], []);
            return;
        }

        if (overlay is not null)
        {
            Overlay(context, overlay);
            return;
        }

        HostRootfs(context);
    }

    /// <summary>
    /// Mounts the overlay on the root mount point, each lower directory with its own <c>lowerdir+</c> so any number
    /// fit; the upper and work directories are in the container's directory (an imported fd), so one plan serves
    /// every container. A read-only root (<c>root.readonly</c>) has its upper directory too, for the mount points
    /// and working directory an image may lack (the role of Docker's init layer); the root is made read-only once
    /// they are made, after the pivot (<see cref="EnterRootStep"/>), before the program runs.
    /// </summary>
    private static void Overlay(PlanContext context, OverlayRootfs overlay)
    {
        if (context.InUserNamespace && overlay.TrustedMetadata)
        {
            throw new InvalidSpecException([new SpecError("linux.namespaces", "this image comes from a store written by root, whose overlay metadata (trusted.* xattrs) cannot be read inside a user namespace: create the container without a user namespace, or use a store of the user's own")]);
        }

        var plan = context.Plan;
        var mountPoint = context.Settings.RootMountPoint;
        var parameters = new List<string>(overlay.LowerDirectories.Length + 4);
        parameters.AddRange(overlay.LowerDirectories.Select(d => "lowerdir+=" + d));
        context.Fds.Add(new FdSource(FdKind.ContainerDirectory));
        var directory = plan.ImportFd();
        parameters.Add("upperdir=" + UpperDirectory);
        parameters.Add("workdir=" + WorkDirectory);
        if (context.InUserNamespace || overlay.Store is { Rootless: true })
        {
            // In a user namespace overlay may only keep its metadata in user.* xattrs (Linux 5.11+), where a store
            // written without root keeps its layers' opaque directories too.
            parameters.Add("userxattr");
        }

        plan.FsMount("overlay", mountPoint, parameters, directory, MountAttributes.None,
            $"mount the overlay root ({overlay.LowerDirectories.Length} lower directories)");
        plan.Root(mountPoint);
        context.Files = ContainerFiles.Overlay(overlay.LowerDirectories);
    }

    private static void HostRootfs(PlanContext context)
    {
        var plan = context.Plan;
        var mountPoint = context.Settings.RootMountPoint;
        plan.Mount("tmpfs", mountPoint, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, $"mode=755,size={TmpfsSize}", "mount the root tmpfs");
        plan.Root(mountPoint);
        var visible = new List<string>();
        foreach (var directory in HostDirectories)
        {
            switch (context.Host.Inspect(directory))
            {
                case { Kind: HostFileKind.SymbolicLink, LinkTarget: var target }:
                    // Merged /usr: /bin -> usr/bin stays a link, so paths through either name work.
                    plan.Symlink(target!, directory);
                    break;
                case { Kind: HostFileKind.Directory }:
                    plan.MakeDirectory(directory, DirectoryMode);
                    plan.Bind(directory, directory, recursive: true, readOnly: true, stage: $"bind {directory} read-only");
                    visible.Add(directory);
                    break;
            }
        }

        foreach (var (path, mode) in EmptyDirectories)
        {
            plan.MakeDirectory(path, mode, parents: true);
        }

        var files = new ContainerFiles("/", [.. visible], []);
        if (!context.Spec.Mounts.Any(m => m.Destination.TrimEnd('/') == "/tmp"))
        {
            plan.MakeDirectory("/tmp", StickyWorldWritable);
            plan.Mount("tmpfs", "/tmp", "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, $"mode=1777,size={TmpfsSize}");
            files = files.WithMount("/tmp", null);
        }

        context.Files = files;
    }
}
