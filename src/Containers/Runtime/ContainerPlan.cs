using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// Compiles a <see cref="ContainerSpec"/> into the plan the child runs between clone and exec. All policy lives
/// here: which namespaces, how the root is assembled, which devices, which mounts in which order, which ids. The
/// child only executes the ops.
/// </summary>
internal sealed class ContainerPlan
{
    private const uint DirectoryMode = 0x1ed; // 0755
    private const uint CharDevice = 0x2000;   // S_IFCHR
    private const int PrSetNoNewPrivs = 38;
    private const uint DefaultUmask = 0x12; // 022

    private static readonly string[] HostRootfsDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

    /// <summary>
    /// What the init passes on to the program: every signal but those it cannot receive (SIGKILL, SIGSTOP), the one
    /// it acts on itself (SIGCHLD) and those only its own terminal I/O would raise (SIGTTIN, SIGTTOU).
    /// </summary>
    private static readonly int[] InitForwardedSignals =
        [.. Enumerable.Range(1, 64).Where(s => s is not (9 or 19 or 17 or 21 or 22))];

    private static readonly (string Name, uint Major, uint Minor)[] Devices =
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];

    private static readonly (string Link, string Target)[] DeviceLinks =
        [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"),
         ("/dev/stderr", "/proc/self/fd/2"), ("/dev/ptmx", "pts/ptmx")];

    private ContainerPlan(Plan plan, IReadOnlyList<FdSource> fds, UserNamespaceMapping? mapping, bool terminal, bool waitsForStart)
    {
        Plan = plan;
        Fds = fds;
        Mapping = mapping;
        Terminal = terminal;
        WaitsForStart = waitsForStart;
    }

    public Plan Plan { get; }

    /// <summary>What to supply in each imported slot, in slot order (slot 1 first).</summary>
    public IReadOnlyList<FdSource> Fds { get; }

    /// <summary>The maps to write for a new user namespace while the child waits, or null without one.</summary>
    public UserNamespaceMapping? Mapping { get; }

    /// <summary>Whether the process gets a pseudo-terminal whose master comes back over a socket.</summary>
    public bool Terminal { get; }

    /// <summary>Whether the child waits for a start byte before exec (the OCI created state).</summary>
    public bool WaitsForStart { get; }

    /// <summary>Compiles <paramref name="spec"/> (already validated); <paramref name="bundle"/> is the container's state folder.</summary>
    /// <exception cref="ExecutableNotFoundException">The program is not in the root filesystem.</exception>
    public static ContainerPlan Compile(ContainerSpec spec, ContainerCreateOptions options, string bundle)
    {
        var process = spec.Process!;
        var linux = spec.Linux ?? new LinuxSpec();
        var executable = ResolveExecutable(spec);
        var fds = new List<FdSource>();
        var flags = CloneFlags.None;
        var joins = new List<(LinuxNamespace Ns, CloneFlags Flag)>();
        foreach (var ns in linux.Namespaces)
        {
            var flag = ToCloneFlag(ns.Type);
            if (ns.Path is null)
            {
                flags |= flag;
            }
            else
            {
                joins.Add((ns, flag));
            }
        }

        UserNamespaceMapping? mapping = null;
        if (linux.FindNamespace(NamespaceType.User) is { Path: null })
        {
            mapping = linux.UidMappings.Length > 0
                ? new UserNamespaceMapping(linux.UidMappings, linux.GidMappings.Length > 0 ? linux.GidMappings : linux.UidMappings, ViaHelpers: false)
                : Environment.IsPrivilegedProcess
                    ? new UserNamespaceMapping([new(0, 0, uint.MaxValue)], [new(0, 0, uint.MaxValue)], ViaHelpers: false)
                    : UserNamespaceMapping.Rootless();
        }
        else if (!Environment.IsPrivilegedProcess && linux.FindNamespace(NamespaceType.User) is null)
        {
            // Unprivileged callers can only create the other namespaces from inside a user namespace of their own.
            flags |= CloneFlags.NewUser;
            mapping = UserNamespaceMapping.Rootless();
        }

        var inUserNamespace = flags.HasFlag(CloneFlags.NewUser) || joins.Exists(j => j.Ns.Type == NamespaceType.User);
        var plan = new PlanBuilder(flags);
        if (joins.Exists(j => j.Ns.Type == NamespaceType.User))
        {
            plan.ForkLike();
        }

        if (mapping is not null)
        {
            plan.WaitForParent("wait for the uid and gid maps");

            // Until it changes ids the child keeps its host ids, which the new namespace may not map (root's 0 when
            // root maps a range elsewhere): files it created would get no owner (EOVERFLOW). Become its root first.
            plan.SetResGid(0, "setresgid to the user namespace's root");
            plan.SetResUid(0, "setresuid to the user namespace's root");
        }

        // The user namespace first: it decides what the other joins may do.
        foreach (var (ns, flag) in joins.OrderBy(j => j.Ns.Type == NamespaceType.User ? 0 : 1))
        {
            fds.Add(new FdSource(FdKind.Namespace, ns.Path));
            plan.SetNs(plan.ImportFd(), flag, $"join {ns.Type.ToOciName()} namespace {ns.Path}");
        }

        if (joins.Exists(j => j.Ns.Type == NamespaceType.Pid))
        {
            plan.Fork();
        }

        plan.Umask(0);
        if (flags.HasFlag(CloneFlags.NewNs))
        {
            BuildRoot(plan, spec, bundle, inUserNamespace, flags);
        }
        else if (spec.Root is not null)
        {
            throw new InvalidSpecException([new SpecError("root", "a root filesystem needs a new mount namespace: add {\"type\": \"mount\"} to linux.namespaces")]);
        }

        if (flags.HasFlag(CloneFlags.NewNet))
        {
            plan.LoopbackUp();
        }

        if (spec.Hostname is { } hostname && flags.HasFlag(CloneFlags.NewUts))
        {
            plan.SetHostname(hostname);
        }

        foreach (var limit in process.Rlimits)
        {
            plan.SetRlimit(RlimitNumber(limit.Type), limit.Soft, limit.Hard, $"setrlimit {limit.Type}");
        }

        var terminal = process.Terminal;
        AddStdio(plan, fds, terminal, options.Stdio);
        AddIdentity(plan, process, mapping);
        plan.ChangeDirectory(process.Cwd);
        if (process.NoNewPrivileges)
        {
            plan.Prctl(PrSetNoNewPrivs, 1, stage: "prctl PR_SET_NO_NEW_PRIVS");
        }

        plan.CloseOtherFds([]);
        plan.WaitForParent("wait for start", announce: true);
        if (options.Init)
        {
            // Last before exec: the init stays in the state every earlier op set up (root, ids, rlimits), and
            // nothing the program asks for (a seccomp filter, say) should apply to the init's few system calls.
            plan.Init(InitForwardedSignals, foreground: terminal, stage: "fork the init");
        }

        plan.Exec(executable, process.Args, process.Env, EnvPath(process));
        return new ContainerPlan(plan.Build(), fds, mapping, terminal, waitsForStart: true);
    }

    /// <summary>Compiles an exec: join every namespace of the container <paramref name="container"/> has of its own, then run <paramref name="process"/> there.</summary>
    public static ContainerPlan CompileExec(ContainerSpec container, ProcessSpec process, ContainerStdio stdio)
    {
        var linux = container.Linux ?? new LinuxSpec();
        var namespaces = CloneFlags.None;
        foreach (var ns in linux.Namespaces)
        {
            namespaces |= ToCloneFlag(ns.Type);
        }

        if (!Environment.IsPrivilegedProcess && linux.FindNamespace(NamespaceType.User) is null)
        {
            namespaces |= CloneFlags.NewUser;
        }

        var fds = new List<FdSource> { new(FdKind.ContainerPidFd) };
        var plan = new PlanBuilder();
        if (namespaces.HasFlag(CloneFlags.NewUser))
        {
            plan.ForkLike();
        }

        plan.SetNs(plan.ImportFd(), namespaces, "join the container's namespaces");
        if (namespaces.HasFlag(CloneFlags.NewPid))
        {
            plan.Fork();
        }

        AddStdio(plan, fds, process.Terminal, stdio);
        UserNamespaceMapping? setGroupsDenied = namespaces.HasFlag(CloneFlags.NewUser) && !Environment.IsPrivilegedProcess
            ? UserNamespaceMapping.Rootless()
            : null;
        AddIdentity(plan, process, setGroupsDenied);
        plan.ChangeDirectory(process.Cwd);
        if (process.NoNewPrivileges)
        {
            plan.Prctl(PrSetNoNewPrivs, 1, stage: "prctl PR_SET_NO_NEW_PRIVS");
        }

        plan.CloseOtherFds([]);
        plan.Exec(process.Args[0], process.Args, process.Env, EnvPath(process));
        return new ContainerPlan(plan.Build(), fds, mapping: null, process.Terminal, waitsForStart: false);
    }

    private static void BuildRoot(PlanBuilder plan, ContainerSpec spec, string bundle, bool inUserNamespace, CloneFlags flags)
    {
        plan.MakePrivate();
        var hostRootfs = spec.Root is null;
        if (hostRootfs)
        {
            // The container's own state folder serves as the mount point: the tmpfs is only visible in the child's
            // mount namespace, and it hides no host path a mount of the spec might bind.
            plan.Mount("tmpfs", bundle, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=755,size=65536k", "mount the root tmpfs");
            plan.Root(bundle);
            foreach (var directory in HostRootfsDirectories)
            {
                var info = new DirectoryInfo(directory);
                if (info.LinkTarget is { } target)
                {
                    // Merged /usr: /bin -> usr/bin stays a link, so paths through either name work.
                    plan.Symlink(target, directory);
                }
                else if (info.Exists)
                {
                    plan.MakeDirectory(directory);
                    plan.Bind(directory, directory, recursive: true, readOnly: true, stage: $"bind {directory} read-only");
                }
            }
        }
        else
        {
            var root = spec.Root!.Path;
            plan.Bind(root, root, recursive: true, stage: $"bind the root filesystem {root}");
            plan.Root(root);
        }

        foreach (var mount in spec.Mounts)
        {
            AddMount(plan, spec, mount, inUserNamespace, flags);
        }

        // A path that does not exist needs no mask (kernels differ in what /proc has); one that exists but cannot be
        // masked or made read-only fails the start, so a container never runs with less isolation than asked for.
        var linux = spec.Linux ?? new LinuxSpec();
        foreach (var path in linux.MaskedPaths)
        {
            if (Directory.Exists(path))
            {
                plan.Mount("tmpfs", path, "tmpfs", MountFlags.ReadOnly, stage: $"mask {path}", missingOk: true);
            }
            else
            {
                plan.Bind("/dev/null", path, recursive: false, stage: $"mask {path}", missingOk: true);
            }
        }

        foreach (var path in linux.ReadonlyPaths)
        {
            plan.Bind(path, path, recursive: true, readOnly: true, sourceInRoot: true, stage: $"make {path} read-only", missingOk: true);
        }

        plan.PivotRoot();
        var readOnly = hostRootfs
            ? spec.Annotations.TryGetValue(ContainerAnnotations.ReadOnlyHostRootfs, out var value) && value == "true"
            : spec.Root!.Readonly;
        if (readOnly)
        {
            plan.MountSetAttributes("/", MountAttributes.ReadOnly, stage: "make the root read-only");
        }
    }

    private static void AddMount(PlanBuilder plan, ContainerSpec spec, MountSpec mount, bool inUserNamespace, CloneFlags flags)
    {
        var options = MountOptions.Parse(mount.Options);
        var target = mount.Destination;
        var isBind = options.Bind || mount.Type == "bind";
        if (isBind && mount.Source is { } source && File.Exists(source))
        {
            if (!ExistsInRoot(spec, target))
            {
                plan.MakeDirectory(Path.GetDirectoryName(target)!, parents: true);
                plan.WriteFile(target, ReadOnlySpan<byte>.Empty, 0x1a4, $"create the mount point {target}");
            }
        }
        else
        {
            plan.MakeDirectory(target, DirectoryMode, parents: true, stage: $"create the mount point {target}");
        }

        if (isBind)
        {
            plan.Bind(mount.Source!, target, options.Recursive, options.ReadOnly, options.Attributes & ~MountAttributes.ReadOnly, stage: $"bind {mount.Source} on {target}");
            return;
        }

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
            AddDevices(plan, inUserNamespace, flags);
        }
    }

    private static void AddDevices(PlanBuilder plan, bool inUserNamespace, CloneFlags flags)
    {
        foreach (var (name, major, minor) in Devices)
        {
            var path = "/dev/" + name;
            if (inUserNamespace)
            {
                // mknod needs CAP_MKNOD in the initial user namespace: bind the host's nodes instead.
                plan.WriteFile(path, ReadOnlySpan<byte>.Empty, 0x1b6, $"create {path}");
                plan.Bind(path, path, recursive: false, stage: $"bind {path}");
            }
            else
            {
                plan.MakeNode(path, CharDevice | 0x1b6, major, minor);
            }
        }

        foreach (var (link, target) in DeviceLinks)
        {
            plan.Symlink(target, link);
        }

        if (flags.HasFlag(CloneFlags.NewIpc))
        {
            plan.MakeDirectory("/dev/mqueue");
            plan.Mount("mqueue", "/dev/mqueue", "mqueue", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, optional: true);
        }
    }

    private static void AddStdio(PlanBuilder plan, List<FdSource> fds, bool terminal, ContainerStdio stdio)
    {
        if (terminal)
        {
            fds.Add(new FdSource(FdKind.TerminalSocket));
            plan.OpenPty("/dev/ptmx", plan.ImportFd());
            plan.SetSid();
            plan.SetControllingTerminal();
            return;
        }

        switch (stdio)
        {
            case ContainerStdio.Pipes:
                fds.Add(new FdSource(FdKind.Stdin));
                plan.Dup2(plan.ImportFd(), 0, "dup2 stdin");
                fds.Add(new FdSource(FdKind.Stdout));
                plan.Dup2(plan.ImportFd(), 1, "dup2 stdout");
                fds.Add(new FdSource(FdKind.Stderr));
                plan.Dup2(plan.ImportFd(), 2, "dup2 stderr");
                break;
            case ContainerStdio.Null:
                fds.Add(new FdSource(FdKind.DevNull));
                var devNull = plan.ImportFd();
                plan.Dup2(devNull, 0, "dup2 /dev/null to stdin");
                plan.Dup2(devNull, 1, "dup2 /dev/null to stdout");
                plan.Dup2(devNull, 2, "dup2 /dev/null to stderr");
                break;
        }
    }

    private static void AddIdentity(PlanBuilder plan, ProcessSpec process, UserNamespaceMapping? mapping)
    {
        plan.Umask(process.User.Umask ?? DefaultUmask);
        if (mapping is null || mapping.SetGroupsAllowed || process.User.AdditionalGids.Length > 0)
        {
            plan.SetGroups(process.User.AdditionalGids);
        }

        plan.SetResGid(process.User.Gid);
        plan.SetResUid(process.User.Uid);
    }

    private static string ResolveExecutable(ContainerSpec spec)
    {
        var process = spec.Process!;
        var program = process.Args[0];
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var absolute = program.StartsWith('/') ? program : Path.Combine(process.Cwd, program);
            return IsExecutableInContainer(spec, absolute)
                ? program
                : throw new ExecutableNotFoundException(program, absolute);
        }

        var searchPath = EnvPath(process) ?? ContainerSpec.DefaultPath;
        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = directory.TrimEnd('/') + "/" + program;
            if (IsExecutableInContainer(spec, candidate))
            {
                return candidate;
            }
        }

        throw new ExecutableNotFoundException(program, "PATH=" + searchPath);
    }

    /// <summary>Whether <paramref name="path"/> will be an executable file inside the container: in a bind mount's source, or in the root filesystem.</summary>
    private static bool IsExecutableInContainer(ContainerSpec spec, string path)
    {
        for (var i = spec.Mounts.Length - 1; i >= 0; i--)
        {
            var mount = spec.Mounts[i];
            var destination = mount.Destination.TrimEnd('/');
            if (mount.Source is { } source && (mount.Type == "bind" || mount.Options.Contains("bind") || mount.Options.Contains("rbind"))
                && path.StartsWith(destination + "/", StringComparison.Ordinal))
            {
                return RootfsPath.IsExecutableFile(source, path[destination.Length..]);
            }
        }

        if (spec.Root is { } root)
        {
            return RootfsPath.IsExecutableFile(root.Path, path);
        }

        // Host rootfs: only what the read-only binds bring in is there.
        return RootfsPath.Resolve("/", path) is { } host
            && HostRootfsDirectories.Any(d => host.StartsWith(d + "/", StringComparison.Ordinal))
            && RootfsPath.IsExecutableFile("/", path);
    }

    private static bool ExistsInRoot(ContainerSpec spec, string path) =>
        spec.Root is { } root ? RootfsPath.Resolve(root.Path, path) is not null : RootfsPath.Resolve("/", path) is { } host
            && HostRootfsDirectories.Any(d => host.StartsWith(d + "/", StringComparison.Ordinal));

    private static string? EnvPath(ProcessSpec process)
    {
        foreach (var variable in process.Env)
        {
            if (variable.StartsWith("PATH=", StringComparison.Ordinal))
            {
                return variable[5..];
            }
        }

        return null;
    }

    private static string? WithoutOption(string? data, string prefix) =>
        data is null ? null : string.Join(',', data.Split(',').Where(o => !o.StartsWith(prefix, StringComparison.Ordinal))) is { Length: > 0 } rest ? rest : null;

    private static CloneFlags ToCloneFlag(NamespaceType type) => type switch
    {
        NamespaceType.Pid => CloneFlags.NewPid,
        NamespaceType.Network => CloneFlags.NewNet,
        NamespaceType.Mount => CloneFlags.NewNs,
        NamespaceType.Ipc => CloneFlags.NewIpc,
        NamespaceType.Uts => CloneFlags.NewUts,
        NamespaceType.User => CloneFlags.NewUser,
        NamespaceType.Cgroup => CloneFlags.NewCgroup,
        _ => CloneFlags.NewTime,
    };

    private static int RlimitNumber(string type) => type switch
    {
        "RLIMIT_CPU" => 0,
        "RLIMIT_FSIZE" => 1,
        "RLIMIT_DATA" => 2,
        "RLIMIT_STACK" => 3,
        "RLIMIT_CORE" => 4,
        "RLIMIT_RSS" => 5,
        "RLIMIT_NPROC" => 6,
        "RLIMIT_NOFILE" => 7,
        "RLIMIT_MEMLOCK" => 8,
        "RLIMIT_AS" => 9,
        "RLIMIT_LOCKS" => 10,
        "RLIMIT_SIGPENDING" => 11,
        "RLIMIT_MSGQUEUE" => 12,
        "RLIMIT_NICE" => 13,
        "RLIMIT_RTPRIO" => 14,
        "RLIMIT_RTTIME" => 15,
        _ => throw new InvalidSpecException([new SpecError("process.rlimits", $"unknown rlimit type '{type}'")]),
    };
}
