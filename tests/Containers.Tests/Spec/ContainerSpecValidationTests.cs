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
        { "duplicate namespace", WithNamespaces(Valid, new(NamespaceType.Pid), new(NamespaceType.Pid, "/proc/1/ns/pid")), "linux.namespaces[1].type", "listed more than once" },
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
        { "terminal with console size", Valid.WithTerminal() with { Process = Valid.WithTerminal().Process! with { ConsoleSize = new(24, 80) } } },
        { "a dot-dot inside a name", Valid.WithTmpfs("/data/..hidden") },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void An_invalid_spec_reports_the_problem_at_its_json_path(string rule, ContainerSpec spec, string path, string message)
    {
        var errors = spec.Validate();

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
            + "root.path: must be an absolute path (starting with '/'), got 'rootfs'",
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

        Assert.Equal(["root.path"], spec.Validate().Select(e => e.JsonPath));
    }

    private static ContainerSpec WithNamespaces(ContainerSpec spec, params LinuxNamespace[] namespaces) =>
        spec with { Linux = spec.Linux! with { Namespaces = [.. namespaces] } };
}
