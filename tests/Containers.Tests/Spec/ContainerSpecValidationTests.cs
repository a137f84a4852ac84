using System.Collections.Immutable;
using Containers.Spec;

namespace Containers.Tests.Spec;

public class ContainerSpecValidationTests
{
    private static readonly ContainerSpec Valid = ContainerSpec.For("/bin/true");

    public static TheoryData<string, ContainerSpec, string, string> InvalidSpecs => new()
    {
        { "no process", Valid with { Process = null }, "process", "must be set" },
        { "empty oci version", Valid with { OciVersion = "" }, "ociVersion", "must not be empty" },
        { "empty args", ContainerSpec.For(), "process.args", "must not be empty: give the program to run" },
        { "empty program", ContainerSpec.For("", "x"), "process.args[0]", "must not be empty" },
        { "relative cwd", Valid.WithWorkingDirectory("work"), "process.cwd", "must be an absolute path" },
        { "empty cwd", Valid.WithWorkingDirectory(""), "process.cwd", "must not be empty" },
        { "relative root", Valid.WithRootfs("rootfs"), "root.path", "must be an absolute path (starting with '/'), got 'rootfs'" },
        { "empty root", Valid.WithRootfs(""), "root.path", "must not be empty" },
        { "relative mount destination", Valid.WithTmpfs("tmp"), "mounts[5].destination", "must be an absolute path" },
        { "dot-dot in mount destination", Valid.WithTmpfs("/tmp/../etc"), "mounts[5].destination", "'..'" },
        { "dot-dot at the end of a mount destination", Valid.WithTmpfs("/tmp/.."), "mounts[5].destination", "'..'" },
        { "empty mount type", Valid.WithMount(new MountSpec { Destination = "/x" }), "mounts[5].type", "must not be empty" },
        { "bad tmpfs size", Valid.WithMount(MountSpec.Tmpfs("/t") with { Options = ["size=lots"] }), "mounts[5].options", "'size=lots' is not a tmpfs size" },
        { "empty tmpfs size", Valid.WithMount(MountSpec.Tmpfs("/t") with { Options = ["size="] }), "mounts[5].options", "not a tmpfs size" },
        { "tmpfs size with a bad suffix", Valid.WithMount(MountSpec.Tmpfs("/t") with { Options = ["size=10x"] }), "mounts[5].options", "not a tmpfs size" },
        { "undefined namespace type", Valid.WithNamespace((NamespaceType)42), "linux.namespaces[5].type", "unknown namespace type 42" },
        { "duplicate namespace", WithNamespaces(Valid, new(NamespaceType.Pid), new(NamespaceType.Pid, "/proc/1/ns/pid"), new(NamespaceType.Mount)), "linux.namespaces[1].type", "listed more than once" },
        { "relative namespace path", Valid.WithNamespacePath(NamespaceType.Network, "proc/1/ns/net"), "linux.namespaces[1].path", "must be an absolute path" },
        { "hostname without uts", Valid.WithHostname("box").WithoutNamespace(NamespaceType.Uts), "hostname", "needs a new uts namespace" },
        { "hostname with a joined uts", Valid.WithHostname("box").WithNamespacePath(NamespaceType.Uts, "/proc/1/ns/uts"), "hostname", "needs a new uts namespace" },
        { "uid mapping without user namespace", Valid.WithUidMapping(0, 1000, 1).WithoutNamespace(NamespaceType.User), "linux.uidMappings", "needs a new user namespace" },
        { "gid mapping into a joined user namespace", Valid.WithGidMapping(0, 1000, 1).WithNamespacePath(NamespaceType.User, "/proc/1/ns/user"), "linux.gidMappings", "needs a new user namespace" },
        { "zero-size mapping", Valid.WithUidMapping(0, 1000, 0), "linux.uidMappings[0].size", "must be at least 1" },
        { "overlapping container ids", Valid.WithUidMapping(0, 1000, 10).WithUidMapping(9, 5000, 1), "linux.uidMappings[1]", "containerID range overlaps linux.uidMappings[0]" },
        { "overlapping host ids", Valid.WithGidMapping(0, 1000, 10).WithGidMapping(100, 1005, 10), "linux.gidMappings[1]", "hostID range overlaps linux.gidMappings[0]" },
        { "env without =", Valid.WithEnv("A", "1") with { Process = Valid.Process! with { Env = ["PATH=/bin", "NOVALUE"] } }, "process.env[1]", "must be KEY=VALUE with a non-empty KEY, got 'NOVALUE'" },
        { "env with empty key", Valid.WithEnv("", "x"), "process.env[1]", "non-empty KEY" },
        { "unknown rlimit", Valid.WithRlimit("RLIMIT_FILES", 1, 1), "process.rlimits[0].type", "unknown resource limit 'RLIMIT_FILES'" },
        { "duplicate rlimit", Valid with { Process = Valid.Process! with { Rlimits = [new("RLIMIT_NOFILE", 2, 2), new("RLIMIT_NOFILE", 3, 3)] } }, "process.rlimits[1].type", "more than once" },
        { "soft above hard", Valid.WithRlimit("RLIMIT_NOFILE", soft: 2048, hard: 1024), "process.rlimits[0].soft", "must not exceed hard (1024), got 2048" },
        { "umask above 0777", Valid.WithUmask(512), "process.user.umask", "at most 0777" },
        { "console size without terminal", Valid with { Process = Valid.Process! with { ConsoleSize = new(24, 80) } }, "process.consoleSize", "needs process.terminal" },
        { "relative masked path", Valid with { Linux = Valid.Linux! with { MaskedPaths = ["proc/kcore"] } }, "linux.maskedPaths[0]", "absolute" },
        { "relative readonly path", Valid with { Linux = Valid.Linux! with { ReadonlyPaths = ["/proc/sys", "sys"] } }, "linux.readonlyPaths[1]", "absolute" },
        { "mounts without a mount namespace", (Valid with { Linux = Valid.Linux! with { MaskedPaths = [], ReadonlyPaths = [] } }).WithoutNamespace(NamespaceType.Mount), "mounts", "needs a new mount namespace" },
        { "masked paths in a joined mount namespace", (Valid with { Mounts = [], Linux = Valid.Linux! with { ReadonlyPaths = [] } }).WithNamespacePath(NamespaceType.Mount, "/proc/1/ns/mnt"), "linux.maskedPaths", "needs a new mount namespace" },
        { "readonly paths without a mount namespace", (Valid with { Mounts = [], Linux = Valid.Linux! with { MaskedPaths = [] } }).WithoutNamespace(NamespaceType.Mount), "linux.readonlyPaths", "needs a new mount namespace" },
        { "a root without a mount namespace", (Valid with { Mounts = [], Linux = Valid.Linux! with { MaskedPaths = [], ReadonlyPaths = [] } }).WithRootfs("/srv/rootfs").WithoutNamespace(NamespaceType.Mount), "root", "needs a new mount namespace" },
        { "bind mount without source", Valid.WithMount(new MountSpec { Destination = "/x", Type = "none", Options = ["rbind"] }), "mounts[5].source", "must not be empty for a bind mount" },
        { "capability without CAP_ prefix", WithCapabilities(new() { Bounding = ["CAP_KILL", "NET_ADMIN"] }), "process.capabilities.bounding[1]", "got 'NET_ADMIN'" },
        { "unknown capability", WithCapabilities(new() { Permitted = ["CAP_FLY"] }), "process.capabilities.permitted[0]", "got 'CAP_FLY'" },
        { "lowercase capability", WithCapabilities(new() { Ambient = ["cap_kill"] }), "process.capabilities.ambient[0]", "capability name" },
        { "bare CAP_", WithCapabilities(new() { Effective = ["CAP_"] }), "process.capabilities.effective[0]", "capability name" },
        { "zero memory limit", WithResources(new() { Memory = new() { Limit = 0 } }), "linux.resources.memory.limit", "must be a positive number of bytes, or -1 for unlimited, got 0" },
        { "negative memory reservation", WithResources(new() { Memory = new() { Reservation = -2 } }), "linux.resources.memory.reservation", "or -1 for unlimited" },
        { "swap below memory limit", WithResources(new() { Memory = new() { Limit = 8192, Swap = 4096 } }), "linux.resources.memory.swap", "must be at least memory.limit (8192)" },
        { "memory limit below a page", WithResources(new() { Memory = new() { Limit = 100 } }), "linux.resources.memory.limit", "must be at least 4096 bytes" },
        { "memory.high not a number", WithResources(new() { Unified = High("64M") }), "linux.resources.unified[\"memory.high\"]", "must be a number of bytes in decimal digits, or 'max', got '64M'" },
        { "memory.high in hex", WithResources(new() { Unified = High("0x1000000") }), "linux.resources.unified[\"memory.high\"]", "decimal digits" },
        { "memory.high negative", WithResources(new() { Unified = High("-1") }), "linux.resources.unified[\"memory.high\"]", "must not be negative, got -1" },
        { "memory.high below a page", WithResources(new() { Unified = High("4095") }), "linux.resources.unified[\"memory.high\"]", "must be at least 4096 bytes" },
        { "memory.high zero", WithResources(new() { Unified = High("0") }), "linux.resources.unified[\"memory.high\"]", "must be at least 4096 bytes" },
        { "memory.high above memory.limit", WithResources(new() { Memory = new() { Limit = 1 << 20 }, Unified = High("1048577") }), "linux.resources.unified[\"memory.high\"]", "must not exceed memory.limit (1048576)" },
        { "memory.high above memory.limit, from the builder", Valid.WithMemoryLimit(1 << 20).WithMemoryHigh(2 << 20), "linux.resources.unified[\"memory.high\"]", "never acts, got 2097152" },
        { "cpu quota below the kernel's minimum", WithResources(new() { Cpu = new() { Quota = 999 } }), "linux.resources.cpu.quota", "at least 1000 microseconds" },
        { "blkio weight out of range", WithResources(new() { BlockIO = new() { Weight = 5 } }), "linux.resources.blockIO.weight", "between 10 and 1000" },
        { "a device rule of an unknown type", WithResources(new() { Devices = [new() { Type = "x", Access = "r" }] }), "linux.resources.devices[0].type", "must be 'a', 'b' or 'c'" },
        { "oom score out of range", Valid with { Process = Valid.Process! with { OomScoreAdj = 1001 } }, "process.oomScoreAdj", "between -1000 and 1000" },
        { "zero pids limit", WithResources(new() { Pids = new(0) }), "linux.resources.pids.limit", "positive number of tasks" },
        { "zero cpu quota", WithResources(new() { Cpu = new() { Quota = 0 } }), "linux.resources.cpu.quota", "positive number of microseconds" },
        { "cpu period too short", WithResources(new() { Cpu = new() { Period = 999 } }), "linux.resources.cpu.period", "between 1000 and 1000000" },
        { "cpu period too long", WithResources(new() { Cpu = new() { Period = 1_000_001 } }), "linux.resources.cpu.period", "between 1000 and 1000000" },
        { "cpu shares below 2", WithResources(new() { Cpu = new() { Shares = 1 } }), "linux.resources.cpu.shares", "at least 2" },
        { "malformed cpu list", WithResources(new() { Cpu = new() { Cpus = "0-" } }), "linux.resources.cpu.cpus", "must be a list such as '0-3,5', got '0-'" },
        { "backwards cpu range", WithResources(new() { Cpu = new() { Cpus = "3-1" } }), "linux.resources.cpu.cpus", "got '3-1'" },
        { "malformed mems list", WithResources(new() { Cpu = new() { Mems = "a" } }), "linux.resources.cpu.mems", "got 'a'" },
        { "a device of an unknown type", WithDevices(new LinuxDevice { Path = "/dev/x", Type = "z", Major = 1, Minor = 3 }), "linux.devices[0].type", "must be 'c', 'b', 'u' or 'p'" },
        { "a device at a relative path", WithDevices(new LinuxDevice { Path = "dev/x", Type = "c", Major = 1, Minor = 3 }), "linux.devices[0].path", "must be an absolute path" },
        { "a device made at /dev itself", WithDevices(new LinuxDevice { Path = "/dev/", Type = "c", Major = 1, Minor = 3 }), "linux.devices[0].path", "not a path a node can be made at" },
        { "two devices at one path", WithDevices(new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 3 }, new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 5 }), "linux.devices[1].path", "listed twice" },
        { "a device number out of range", WithDevices(new LinuxDevice { Path = "/dev/x", Type = "b", Major = 4096, Minor = 0 }), "linux.devices[0]", "major must be 0 to 4095" },
        { "a device mode with type bits", WithDevices(new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 3, FileMode = 0x21b6 }), "linux.devices[0].fileMode", "at most 0777" },
        { "a device in a user namespace", WithDevices(new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 3 }).WithUidMapping(0, 1000, 1).WithGidMapping(0, 1000, 1), "linux.devices", "cannot be made in a user namespace" },
        { "a device without a mount namespace", (Valid with { Mounts = [], Linux = Valid.Linux! with { MaskedPaths = [], ReadonlyPaths = [], Devices = [new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 3 }] } }).WithoutNamespace(NamespaceType.Mount), "linux.devices", "needs a new mount namespace" },
    };

    public static TheoryData<string, ContainerSpec> ValidSpecs => new()
    {
        { "defaults", Valid },
        { "a program name found in PATH", ContainerSpec.For("sh", "-c", "true") },
        { "absolute root", Valid.WithRootfs("/srv/rootfs", readOnly: true) },
        { "no hostname without uts", Valid.WithoutNamespace(NamespaceType.Uts) },
        { "no linux section", Valid with { Linux = null, Mounts = [] } },
        { "joined namespaces", Valid.WithNamespacePath(NamespaceType.Network, "/proc/1/ns/net").WithNamespacePath(NamespaceType.Ipc, "/proc/1/ns/ipc") },
        { "every tmpfs size form", Valid.WithMount(MountSpec.Tmpfs("/t") with { Options = ["size=1024", "size=64k", "size=2M", "size=1g", "size=50%"] }) },
        { "size options on other filesystems are theirs to judge", Valid.WithMount(new MountSpec { Destination = "/x", Type = "ext4", Options = ["size=whatever"] }) },
        { "adjacent id ranges", Valid.WithUidMapping(0, 1000, 1).WithUidMapping(1, 100000, 65536).WithGidMapping(0, 1000, 1).WithGidMapping(1, 1001, 10) },
        { "env value containing =", Valid.WithEnv("OPTS", "a=b") },
        { "env with empty value", Valid.WithEnv("EMPTY", "") },
        { "every known rlimit", PosixRlimit.KnownTypes.Aggregate(Valid, (s, t) => s.WithRlimit(t, 1, 2)) },
        { "soft equal to hard", Valid.WithRlimit("RLIMIT_CORE", 0, 0) },
        { "umask 0777", Valid.WithUmask(511) },
        { "a dot-dot inside a name", Valid.WithTmpfs("/data/..hidden") },
        { "a bind by type with a source", Valid.WithBindMount("/srv", "/srv") },
        { "every option a bind applies", Valid.WithMount(MountSpec.Bind("/srv", "/srv") with { Options = ["rbind", "ro", "nosuid", "nodev", "noexec", "noatime", "rprivate"] }) },
        { "no mounts and no masks without a mount namespace", (Valid with { Mounts = [], Linux = Valid.Linux! with { MaskedPaths = [], ReadonlyPaths = [] } }).WithoutNamespace(NamespaceType.Mount) },
        { "unlimited resources", WithResources(new() { Memory = new() { Limit = -1, Reservation = -1, Swap = -1 }, Cpu = new() { Quota = -1 }, Pids = new(-1) }) },
        { "swap unlimited with a memory limit", WithResources(new() { Memory = new() { Limit = 1 << 20, Swap = -1 } }) },
        { "memory.high in bytes", WithResources(new() { Unified = High("67108864") }) },
        { "memory.high max", WithResources(new() { Unified = High("max") }) },
        { "memory.high at memory.limit", WithResources(new() { Memory = new() { Limit = 1 << 20 }, Unified = High("1048576") }) },
        { "memory.high max under a memory.limit", Valid.WithMemoryLimit(1 << 20).WithMemoryHigh(-1) },
        { "memory.high under an unlimited memory.limit", WithResources(new() { Memory = new() { Limit = -1 }, Unified = High("1073741824") }) },
        { "cpu lists", WithResources(new() { Cpu = new() { Cpus = "0-3,5,7-8", Mems = "0", Shares = 2, Period = 1000 } }) },
        { "an empty resources section", WithResources(new()) },
        { "devices of every type, with mode and owner", WithDevices(
            new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 0x1b6, Uid = 0, Gid = 5 },
            new LinuxDevice { Path = "/dev/disks/a", Type = "b", Major = 7, Minor = 0 },
            new LinuxDevice { Path = "/dev/u", Type = "u", Major = 1, Minor = 3 },
            new LinuxDevice { Path = "/run/pipe", Type = "p" }) },
        { "an oom score", Valid with { Process = Valid.Process! with { OomScoreAdj = 500 } } },
        { "empty sections of unsupported settings set nothing", Valid with { Linux = Valid.Linux! with { Sysctl = ImmutableSortedDictionary<string, string>.Empty, Devices = [] }, Domainname = "" } },
    };

    // Settings this runtime does not apply yet: well-formed values are refused with exactly one error, at the field.
    public static TheoryData<string, ContainerSpec, string> UnsupportedSpecs => new()
    {
        { "terminal with console size", Valid.WithTerminal() with { Process = Valid.WithTerminal().Process! with { ConsoleSize = new(24, 80) } }, "process.consoleSize" },
        { "a raw cgroup v2 file other than memory.high", WithResources(new() { Unified = ImmutableSortedDictionary<string, string>.Empty.Add("cpu.weight", "100") }), "linux.resources.unified[\"cpu.weight\"]" },
        { "memory.max through unified", WithResources(new() { Unified = High("max").Add("memory.max", "max") }), "linux.resources.unified[\"memory.max\"]" },
        { "a kernel memory limit", WithResources(new() { Memory = new() { Kernel = 1 << 20 } }), "linux.resources.memory.kernel" },
        { "a sysctl", Valid with { Linux = Valid.Linux! with { Sysctl = ImmutableSortedDictionary<string, string>.Empty.Add("net.ipv4.ip_forward", "1") } }, "linux.sysctl" },
        { "a cgroups path", Valid with { Linux = Valid.Linux! with { CgroupsPath = "/box" } }, "linux.cgroupsPath" },
        { "a seccomp listener socket", Valid with { Linux = Valid.Linux! with { Seccomp = new() { DefaultAction = "SCMP_ACT_ERRNO", ListenerPath = "/run/agent.sock" } } }, "linux.seccomp.listenerPath" },
        { "a hook", Valid with { Hooks = new() { Poststop = [new Hook { Path = "/bin/true" }] } }, "hooks" },
        { "an id-mapped mount", Valid.WithMount(MountSpec.Bind("/srv", "/srv") with { UidMappings = [new(0, 1000, 1)] }), "mounts[5].uidMappings" },
        { "shared propagation", Valid.WithMount(MountSpec.Tmpfs("/t") with { Options = ["rshared"] }), "mounts[5].options[0]" },
        { "filesystem data on a bind", Valid.WithMount(MountSpec.Bind("/srv", "/srv") with { Options = ["rbind", "size=1m"] }), "mounts[5].options[1]" },
        { "relatime on a bind", Valid.WithMount(MountSpec.Bind("/srv", "/srv") with { Options = ["rbind", "relatime"] }), "mounts[5].options[1]" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void An_invalid_spec_reports_the_problem_at_its_json_path(string rule, ContainerSpec spec, string path, string message)
    {
        // A bad value of a setting not supported yet is reported besides the refusal of the setting itself.
        var errors = spec.Validate().Where(e => !e.Message.StartsWith("is not supported yet", StringComparison.Ordinal)).ToList();

        var error = Assert.Single(errors);
        Assert.True(error.JsonPath == path, $"{rule}: expected path {path}, got {error}");
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ValidSpecs))]
    public void A_valid_spec_has_no_errors(string rule, ContainerSpec spec)
    {
        Assert.True(spec.Validate().Count == 0, $"{rule}: {string.Join("; ", spec.Validate())}");
    }

    [Theory]
    [MemberData(nameof(UnsupportedSpecs))]
    public void A_setting_not_supported_yet_is_refused_at_its_json_path(string rule, ContainerSpec spec, string path)
    {
        var error = Assert.Single(spec.Validate());

        Assert.True(error.JsonPath == path, $"{rule}: expected path {path}, got {error}");
        Assert.StartsWith("is not supported yet (", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("): remove it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_unified_key_other_than_memory_high_is_refused_by_name_saying_what_is_written()
    {
        var spec = WithResources(new() { Unified = High("max").Add("cgroup.procs", "1").Add("cpu.max", "max") });

        var errors = spec.Validate();

        Assert.Equal(["linux.resources.unified[\"cgroup.procs\"]", "linux.resources.unified[\"cpu.max\"]"], errors.Select(e => e.JsonPath));
        Assert.All(errors, e => Assert.Contains("this runtime writes only memory.high of linux.resources.unified", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void An_exec_is_checked_and_refused_what_the_runtime_does_not_apply()
    {
        var process = Valid.WithRlimit("RLIMIT_NOFILE", 64, 64).WithWorkingDirectory("work").Process! with { ApparmorProfile = "unconfined" };

        var error = Assert.Throws<InvalidSpecException>(() => SpecValidator.ThrowIfInvalidForExec(process, Valid.Process));

        Assert.Equal(["process.cwd", "process.apparmorProfile"], error.Errors.Select(e => e.JsonPath));
        SpecValidator.ThrowIfInvalidForExec(Valid.WithRlimit("RLIMIT_NOFILE", 64, 64).Process!, Valid.Process);
    }

    [Fact]
    public void An_exec_may_carry_the_container_s_own_capabilities_but_never_others()
    {
        var container = Valid.WithCapabilities(LinuxCapabilities.Of("CAP_KILL")).Process!;

        SpecValidator.ThrowIfInvalidForExec(container with { Args = ["/bin/true"] }, container);
        SpecValidator.ThrowIfInvalidForExec(container with { Args = ["/bin/true"], Capabilities = null }, container);
        var error = Assert.Throws<InvalidSpecException>(() => SpecValidator.ThrowIfInvalidForExec(
            container with { Capabilities = LinuxCapabilities.Of("CAP_KILL", "CAP_SYS_ADMIN") }, container));
        Assert.Equal(["process.capabilities"], error.Errors.Select(e => e.JsonPath));
    }

    [Fact]
    public void Capability_names_are_checked_against_the_kernel_s_list_and_add_and_drop_follow_docker()
    {
        var unknown = Assert.Throws<InvalidSpecException>(() => Valid.WithCapabilities(new() { Bounding = ["CAP_NET_ADMN"] }).ThrowIfInvalid());
        Assert.Equal(["process.capabilities.bounding[0]"], unknown.Errors.Select(e => e.JsonPath));
        Assert.Throws<InvalidSpecException>(() => Valid.WithCapabilitiesAdded("NET_ADMN"));

        var added = Valid.WithCapabilitiesAdded("net_admin").Process!.Capabilities!;
        Assert.Contains("CAP_NET_ADMIN", added.Bounding);
        Assert.Contains("CAP_CHOWN", added.Effective); // Docker's default set is the start
        Assert.Equal(["CAP_CHOWN"], Valid.WithCapabilitiesDropped("ALL").WithCapabilitiesAdded("CHOWN").Process!.Capabilities!.Permitted);
        Assert.DoesNotContain("CAP_NET_RAW", Valid.WithCapabilitiesDropped("CAP_NET_RAW").Process!.Capabilities!.Bounding);
        Assert.Equal(41, Valid.WithCapabilitiesAdded("ALL").Process!.Capabilities!.Bounding.Length);
        Assert.Empty(LinuxCapabilities.Default.Inheritable);
        Assert.Equal(14, LinuxCapabilities.Default.Bounding.Length);
    }

    [Fact]
    public void Validate_reports_every_problem_at_once_in_field_order()
    {
        var spec = ContainerSpec.For().WithWorkingDirectory("work").WithRootfs("rootfs").WithTmpfs("tmp");

        Assert.Equal(["process.args", "process.cwd", "root.path", "mounts[5].destination"], spec.Validate().Select(e => e.JsonPath));
    }

    [Fact]
    public void ThrowIfInvalid_throws_a_containers_exception_listing_every_error()
    {
        var spec = ContainerSpec.For().WithRootfs("rootfs");

        var e = Assert.Throws<InvalidSpecException>(spec.ThrowIfInvalid);

        Assert.IsAssignableFrom<ContainersException>(e);
        Assert.Equal(spec.Validate(), e.Errors);
        Assert.Equal(
            "invalid container spec (2 problems): process.args: must not be empty: give the program to run; "
            + "root.path: must be an absolute path (starting with '/'), got 'rootfs': "
            + "for a bundle's config.json, resolve it with ResolveBundlePaths(bundleDirectory)",
            e.Message);
    }

    [Fact]
    public void ThrowIfInvalid_does_nothing_for_a_valid_spec()
    {
        Valid.ThrowIfInvalid();
        Assert.Empty(Valid.Validate());
    }

    [Fact]
    public void A_config_read_from_json_is_validated_like_a_built_one()
    {
        var spec = ContainerSpec.FromJson(ContainerSpecJsonTests.RuncConfig);

        string[] unsupported =
        [
            "process.consoleSize", "process.apparmorProfile", "linux.sysctl", "linux.cgroupsPath",
        ];
        Assert.Equal(["root.path", .. unsupported], spec.Validate().Select(e => e.JsonPath));
        Assert.Equal(unsupported, spec.ResolveBundlePaths("/srv/bundle").Validate().Select(e => e.JsonPath));
    }

    private static ContainerSpec WithCapabilities(LinuxCapabilities capabilities) =>
        Valid with { Process = Valid.Process! with { Capabilities = capabilities } };

    private static ContainerSpec WithDevices(params LinuxDevice[] devices) => Valid with { Linux = Valid.Linux! with { Devices = [.. devices] } };

    private static ContainerSpec WithResources(LinuxResources resources) => Valid with { Linux = Valid.Linux! with { Resources = resources } };

    private static ImmutableSortedDictionary<string, string> High(string value) => ImmutableSortedDictionary<string, string>.Empty.Add("memory.high", value);

    private static ContainerSpec WithNamespaces(ContainerSpec spec, params LinuxNamespace[] namespaces) =>
        spec with { Linux = spec.Linux! with { Namespaces = [.. namespaces] } };

    [Fact]
    public void Null_list_entries_read_from_json_are_reported_instead_of_crashing()
    {
        const string json = """
            {
              "ociVersion": "1.2.1",
              "process": { "args": ["sh", null], "env": [null], "cwd": "/", "rlimits": [null] },
              "mounts": [null, { "destination": "/t", "type": "tmpfs", "options": [null] }],
              "linux": {
                "namespaces": [null, { "type": "user" }, { "type": "mount" }],
                "uidMappings": [null, { "containerID": 0, "hostID": 0, "size": 1 }],
                "maskedPaths": [null]
              }
            }
            """;
        var spec = ContainerSpec.FromJson(json);

        var errors = spec.Validate();

        Assert.Equal(
            [
                "process.args[1]", "process.env[0]", "process.rlimits[0]", "mounts[0]", "mounts[1].options[0]",
                "linux.namespaces[0]", "linux.uidMappings[0]", "linux.maskedPaths[0]",
            ],
            errors.Select(e => e.JsonPath));
        Assert.Equal(spec, spec.ResolveBundlePaths("/srv/bundle"));
    }
}
