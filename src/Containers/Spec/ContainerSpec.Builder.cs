using System.Collections.Immutable;
using System.Diagnostics.Contracts;
using System.Globalization;
using Containers.Security.Seccomp;

namespace Containers.Spec;

public sealed partial record ContainerSpec
{
    /// <summary>The <c>PATH</c> a new spec starts with, the usual one of Debian and of <c>runc spec</c>.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// A spec that runs <paramref name="args"/> isolated by namespaces: the host rootfs (<see cref="Root"/> null), new
    /// pid, mount, uts, ipc and network namespaces (network: loopback only), user 0 in cwd <c>/</c> with
    /// <c>PATH</c> set, <c>noNewPrivileges</c>, the default seccomp profile, <c>/proc</c>, a small <c>/dev</c> with <c>/dev/pts</c> and
    /// <c>/dev/shm</c>, a read-only <c>/sys</c>, and the usual masked and read-only <c>/proc</c> and <c>/sys</c> paths.
    /// </summary>
    /// <remarks>
    /// These defaults are not a sandbox for untrusted code. Without a user namespace, user 0 in the container is
    /// root on the host and keeps every capability (a root caller's container can, for example, load kernel
    /// modules or reach host devices; the default seccomp profile, <see cref="SeccompProfiles.Default"/>, refuses
    /// the system calls for some of that, not all). No cgroup limits apply until
    /// <see cref="WithResources"/> sets some, so the process can use all memory, CPU and pids it is allowed outside. The host's <c>/usr</c>, <c>/bin</c>, <c>/lib*</c> and
    /// <c>/etc</c> are visible read-only. For code you do not trust, at least run it as a non-zero
    /// <see cref="WithUser"/> or in a user namespace (<see cref="WithUidMapping"/>).
    /// </remarks>
    /// <param name="args">The program (an absolute path or a name found in <c>PATH</c>) and its arguments.</param>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh", "-c", "echo hi")
    ///     .WithHostname("box")
    ///     .WithTmpfs("/tmp", sizeBytes: 64 &lt;&lt; 20)
    ///     .WithBindMount("/srv/data", "/data", readOnly: true);
    /// spec.ThrowIfInvalid();
    /// </code>
    /// </example>
    [Pure]
    public static ContainerSpec For(params ReadOnlySpan<string> args) => new()
    {
        Process = new ProcessSpec
        {
            Args = [.. args],
            Env = ["PATH=" + DefaultPath],
            Cwd = "/",
            NoNewPrivileges = true,
        },
        Mounts =
        [
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
            new() { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
        ],
        Linux = new LinuxSpec
        {
            Namespaces =
            [
                new(NamespaceType.Pid), new(NamespaceType.Network), new(NamespaceType.Ipc), new(NamespaceType.Uts), new(NamespaceType.Mount),
            ],
            MaskedPaths =
            [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/proc/interrupts", "/sys/firmware",
                "/sys/devices/virtual/powercap",
            ],
            ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            Seccomp = SeccompProfiles.Default,
        },
    };

    /// <summary>
    /// Sets the seccomp profile (<c>linux.seccomp</c>): <see cref="SeccompProfiles.Default"/> (what <see cref="For"/>
    /// starts with), <see cref="SeccompProfiles.Sandbox"/>, your own, or null for none (unconfined: every system call
    /// the process's capabilities allow).
    /// </summary>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh").WithSeccomp(SeccompProfiles.Sandbox);
    /// var unconfined = ContainerSpec.For("/bin/sh").WithSeccomp(null);
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec WithSeccomp(LinuxSeccomp? profile) => this with { Linux = (Linux ?? new LinuxSpec()) with { Seccomp = profile } };

    /// <summary>Sets the hostname; it needs a new uts namespace, which <see cref="For"/> includes.</summary>
    [Pure]
    public ContainerSpec WithHostname(string? hostname) => this with { Hostname = hostname };

    /// <summary>Uses the host directory <paramref name="path"/> (absolute) as the root filesystem.</summary>
    [Pure]
    public ContainerSpec WithRootfs(string path, bool readOnly = false) => this with { Root = new RootSpec(path, readOnly) };

    /// <summary>
    /// Uses the host rootfs: read-only binds of the host's <c>/usr</c>, <c>/bin</c>, <c>/lib*</c>, <c>/etc</c> on a
    /// tmpfs, with a tmpfs <c>/tmp</c> (64 MiB; mount your own at <c>/tmp</c> with <see cref="WithTmpfs"/> to size it)
    /// and empty <c>/run</c>, <c>/var/tmp</c> and <c>/home</c>. With <paramref name="readOnly"/> nothing but
    /// <c>/tmp</c> and the spec's own mounts can be written.
    /// </summary>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh", "-c", "echo hi &gt; /tmp/x").WithHostRootfs(readOnly: true).WithTmpfs("/tmp", 1 &lt;&lt; 20);
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec WithHostRootfs(bool readOnly = false) => this with { Root = readOnly ? new RootSpec(null, Readonly: true) : null };

    /// <summary>Sets the environment variable <paramref name="key"/>, replacing an earlier value of it.</summary>
    [Pure]
    public ContainerSpec WithEnv(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        string prefix = key + "=";
        return WithProcess(p =>
        {
            int index = Structural.FindIndex(p.Env, e => e is not null && e.StartsWith(prefix, StringComparison.Ordinal));
            string entry = prefix + value;
            return p with { Env = index >= 0 ? p.Env.SetItem(index, entry) : p.Env.Add(entry) };
        });
    }

    /// <summary>Sets the working directory (absolute, inside the container).</summary>
    [Pure]
    public ContainerSpec WithWorkingDirectory(string cwd) => WithProcess(p => p with { Cwd = cwd });

    /// <summary>Runs the process as <paramref name="uid"/>:<paramref name="gid"/> with the given supplementary groups.</summary>
    [Pure]
    public ContainerSpec WithUser(uint uid, uint gid, params ReadOnlySpan<uint> additionalGids)
    {
        var groups = ImmutableArray.Create(additionalGids);
        return WithProcess(p => p with { User = p.User with { Uid = uid, Gid = gid, AdditionalGids = groups } });
    }

    /// <summary>Sets the file mode creation mask, for example <c>0b000_010_010</c> (022).</summary>
    [Pure]
    public ContainerSpec WithUmask(uint umask) => WithProcess(p => p with { User = p.User with { Umask = umask } });

    /// <summary>Gives the process a pseudo-terminal (or plain pipes when <paramref name="terminal"/> is false).</summary>
    [Pure]
    public ContainerSpec WithTerminal(bool terminal = true) =>
        WithProcess(p => p with { Terminal = terminal, ConsoleSize = terminal ? p.ConsoleSize : null });

    /// <summary>Sets the resource limit <paramref name="type"/> (for example <c>RLIMIT_NOFILE</c>), replacing an earlier one.</summary>
    [Pure]
    public ContainerSpec WithRlimit(string type, ulong soft, ulong hard)
    {
        ArgumentNullException.ThrowIfNull(type);
        var limit = new PosixRlimit(type, hard, soft);
        return WithProcess(p => p with
        {
            Rlimits = p.Rlimits.RemoveAll(r => string.Equals(r?.Type, type, StringComparison.Ordinal)).Add(limit),
        });
    }

    /// <summary>Adds a mount; one at the same destination is replaced in place, keeping the mount order.</summary>
    [Pure]
    public ContainerSpec WithMount(MountSpec mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        int index = Structural.FindIndex(Mounts, m => string.Equals(m?.Destination, mount.Destination, StringComparison.Ordinal));
        return this with { Mounts = index >= 0 ? Mounts.SetItem(index, mount) : Mounts.Add(mount) };
    }

    /// <summary>Bind-mounts the host path <paramref name="source"/> at <paramref name="destination"/>.</summary>
    [Pure]
    public ContainerSpec WithBindMount(string source, string destination, bool readOnly = false) =>
        WithMount(MountSpec.Bind(source, destination, readOnly));

    /// <summary>Mounts a fresh tmpfs at <paramref name="destination"/>, limited to <paramref name="sizeBytes"/> if given.</summary>
    [Pure]
    public ContainerSpec WithTmpfs(string destination, long? sizeBytes = null) => WithMount(MountSpec.Tmpfs(destination, sizeBytes));

    /// <summary>
    /// Sizes the <c>/dev/shm</c> tmpfs (POSIX shared memory, 64 MiB by default, as Docker's <c>--shm-size</c>):
    /// its <c>size=</c> option becomes <paramref name="sizeBytes"/>, its other options stay.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeBytes"/> is not positive.</exception>
    /// <exception cref="InvalidOperationException">The spec mounts no tmpfs at <c>/dev/shm</c>.</exception>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("chromium", "--headless").WithShmSize(1L &lt;&lt; 30);
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec WithShmSize(long sizeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeBytes);
        var shm = Mounts.FirstOrDefault(m => m is { Destination: "/dev/shm", Type: "tmpfs" })
            ?? throw new InvalidOperationException("the spec mounts no tmpfs at /dev/shm: add one (WithTmpfs(\"/dev/shm\", size)) instead");
        var size = "size=" + sizeBytes.ToString(CultureInfo.InvariantCulture);
        return WithMount(shm with { Options = [.. shm.Options.Where(o => !o.StartsWith("size=", StringComparison.Ordinal)), size] });
    }

    /// <summary>Gives the container a new namespace of <paramref name="type"/> (replacing a joined one).</summary>
    [Pure]
    public ContainerSpec WithNamespace(NamespaceType type) => SetNamespace(new LinuxNamespace(type));

    /// <summary>Makes the container join the existing namespace at <paramref name="path"/>, such as <c>/proc/1234/ns/net</c>.</summary>
    [Pure]
    public ContainerSpec WithNamespacePath(NamespaceType type, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return SetNamespace(new LinuxNamespace(type, path));
    }

    /// <summary>Shares the host's namespace of <paramref name="type"/> with the container.</summary>
    [Pure]
    public ContainerSpec WithoutNamespace(NamespaceType type) =>
        WithLinux(l => l with { Namespaces = l.Namespaces.RemoveAll(n => n?.Type == type) });

    /// <summary>
    /// Maps container uids <c>[containerId, containerId + size)</c> to host uids from <paramref name="hostId"/>, and
    /// adds a new user namespace if there is none.
    /// </summary>
    [Pure]
    public ContainerSpec WithUidMapping(uint containerId, uint hostId, uint size) =>
        WithUserNamespace().WithLinux(l => l with { UidMappings = l.UidMappings.Add(new LinuxIdMapping(containerId, hostId, size)) });

    /// <summary>
    /// Maps container gids <c>[containerId, containerId + size)</c> to host gids from <paramref name="hostId"/>, and
    /// adds a new user namespace if there is none.
    /// </summary>
    [Pure]
    public ContainerSpec WithGidMapping(uint containerId, uint hostId, uint size) =>
        WithUserNamespace().WithLinux(l => l with { GidMappings = l.GidMappings.Add(new LinuxIdMapping(containerId, hostId, size)) });

    /// <summary>
    /// Chooses the network: <see cref="NetworkMode.None"/> is a new network namespace with only loopback,
    /// <see cref="NetworkMode.Host"/> shares the host's.
    /// </summary>
    [Pure]
    public ContainerSpec WithNetwork(NetworkMode mode) => mode switch
    {
        NetworkMode.None => WithNamespace(NamespaceType.Network),
        NetworkMode.Host => WithoutNamespace(NamespaceType.Network),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "use NetworkMode.None or NetworkMode.Host"),
    };

    /// <summary>
    /// Limits the container's memory to <paramref name="bytes"/> (<c>linux.resources.memory.limit</c>); -1 is
    /// unlimited. Past it the kernel reclaims, then OOM-kills (<see cref="Runtime.ContainerResult.OomKilled"/>).
    /// </summary>
    /// <example><code>var spec = ContainerSpec.For("/usr/bin/python3", "job.py").WithMemoryLimit(256L &lt;&lt; 20);</code></example>
    [Pure]
    public ContainerSpec WithMemoryLimit(long bytes) => WithResources(r => r with { Memory = (r.Memory ?? new LinuxMemory()) with { Limit = bytes } });

    /// <summary>
    /// Throttles the container's memory at <paramref name="bytes"/> (cgroup v2's <c>memory.high</c>, which OCI sets
    /// through <c>linux.resources.unified["memory.high"]</c>); -1 removes the throttle (<c>max</c>). Past it the kernel
    /// reclaims the container's memory and slows its allocations, but never OOM-kills: a soft ceiling below a
    /// <see cref="WithMemoryLimit"/>, if any (at most that limit). <see cref="Runtime.ContainerMemoryStats.HighEvents"/>
    /// counts the times it acted. Needs a cgroup v2 host: on v1 the container is refused at create.
    /// </summary>
    /// <param name="bytes">At least one page (4096), or -1.</param>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/usr/bin/make", "-j4").WithMemoryHigh(512L &lt;&lt; 20).WithMemoryLimit(1L &lt;&lt; 30);
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec WithMemoryHigh(long bytes) => WithResources(r => r with
    {
        Unified = r.Unified.SetItem(UnifiedResources.MemoryHigh, UnifiedResources.Format(bytes)),
    });

    /// <summary>Limits how many tasks (processes and threads) the container may hold (<c>linux.resources.pids.limit</c>); -1 is unlimited.</summary>
    /// <example><code>var spec = ContainerSpec.For("/bin/sh", "-c", "make -j").WithPidsLimit(64);</code></example>
    [Pure]
    public ContainerSpec WithPidsLimit(long limit) => WithResources(r => r with { Pids = new LinuxPids(limit) });

    /// <summary>
    /// Limits the container to <paramref name="cpus"/> CPUs' worth of time (for example 0.5), as a quota per
    /// 100 ms period (<c>linux.resources.cpu.quota</c> and <c>period</c>), as Docker's <c>--cpus</c> does.
    /// </summary>
    /// <example><code>var spec = ContainerSpec.For("/usr/bin/stress", "--cpu", "4").WithCpuLimit(1.5);</code></example>
    [Pure]
    public ContainerSpec WithCpuLimit(double cpus)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpus);
        const ulong period = 100_000;
        var quota = (long)Math.Round(cpus * period);
        return WithResources(r => r with { Cpu = (r.Cpu ?? new LinuxCpu()) with { Quota = quota, Period = period } });
    }

    /// <summary>
    /// Gives the container the device node <paramref name="device"/> (<c>linux.devices</c>, replacing one at the same
    /// path) and lets its processes use it for <paramref name="access"/> (a <c>linux.resources.devices</c> allow rule
    /// for its type and numbers, after the default list): Docker's <c>--device</c>. The container gets a cgroup.
    /// <see cref="Runtime.HostDevices.Describe"/> describes a node of the host.
    /// </summary>
    /// <param name="device">The node to create, its path as the container sees it.</param>
    /// <param name="access">Letters of <c>rwm</c>: read, write, mknod.</param>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh", "-c", "cat /dev/ttyS0")
    ///     .WithDevice(HostDevices.Describe("/dev/ttyUSB0", "/dev/ttyS0"), "rw");
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec WithDevice(LinuxDevice device, string access = "rwm")
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(access);
        var spec = WithLinux(l => l with { Devices = l.Devices.RemoveAll(d => string.Equals(d?.Path, device.Path, StringComparison.Ordinal)).Add(device) });

        // A FIFO is no device to the cgroup; an unbuffered character device is a character device to it.
        return device.Type == "p" ? spec : spec.WithResources(r => r with
        {
            Devices = r.Devices.Add(new LinuxDeviceCgroup { Allow = true, Type = device.Type == "u" ? "c" : device.Type, Major = device.Major, Minor = device.Minor, Access = access }),
        });
    }

    /// <summary>Changes <c>linux.resources</c> (created empty when missing: an empty section still gives the container a cgroup of its own).</summary>
    /// <example><code>var spec = ContainerSpec.For("/bin/true").WithResources(r => r with { Pids = new LinuxPids(32) });</code></example>
    [Pure]
    public ContainerSpec WithResources(Func<LinuxResources, LinuxResources> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var linux = Linux ?? new LinuxSpec();
        return this with { Linux = linux with { Resources = change(linux.Resources ?? new LinuxResources()) } };
    }

    /// <summary>Sets the annotation <paramref name="key"/> to <paramref name="value"/>.</summary>
    [Pure]
    public ContainerSpec WithAnnotation(string key, string value) => this with { Annotations = Annotations.SetItem(key, value) };

    /// <summary>
    /// Resolves the paths OCI lets a bundle's <c>config.json</c> give relative to the bundle directory — <c>root.path</c>
    /// and the sources of bind mounts — against <paramref name="bundleDirectory"/>, so the spec passes
    /// <see cref="Validate"/>'s absolute-path rules. Absolute paths are left as they are.
    /// </summary>
    /// <example>
    /// <code>
    /// var spec = (await ContainerSpec.LoadAsync("/srv/bundle/config.json", ct)).ResolveBundlePaths("/srv/bundle");
    /// </code>
    /// </example>
    [Pure]
    public ContainerSpec ResolveBundlePaths(string bundleDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(bundleDirectory);
        string bundle = System.IO.Path.GetFullPath(bundleDirectory);
        string Resolve(string path) => System.IO.Path.GetFullPath(path, bundle);
        return this with
        {
            Root = Root is { Path: { Length: > 0 } rootPath } && !System.IO.Path.IsPathRooted(rootPath) ? Root with { Path = Resolve(rootPath) } : Root,
            Mounts = Mounts.Select(m => m is { IsBind: true } && m.Source is { Length: > 0 } source && !System.IO.Path.IsPathRooted(source)
                ? m with { Source = Resolve(source) }
                : m).ToImmutableArray(),
        };
    }

    private ContainerSpec WithProcess(Func<ProcessSpec, ProcessSpec> change) => this with { Process = change(Process ?? new ProcessSpec()) };

    private ContainerSpec WithLinux(Func<LinuxSpec, LinuxSpec> change) => this with { Linux = change(Linux ?? new LinuxSpec()) };

    private ContainerSpec WithUserNamespace() =>
        Linux?.FindNamespace(NamespaceType.User) is null ? WithNamespace(NamespaceType.User) : this;

    private ContainerSpec SetNamespace(LinuxNamespace ns) => WithLinux(l =>
    {
        int index = Structural.FindIndex(l.Namespaces, n => n?.Type == ns.Type);
        return l with { Namespaces = index >= 0 ? l.Namespaces.SetItem(index, ns) : l.Namespaces.Add(ns) };
    });
}
