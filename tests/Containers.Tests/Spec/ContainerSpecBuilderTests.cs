using Containers.Spec;

namespace Containers.Tests.Spec;

public class ContainerSpecBuilderTests
{
    [Fact]
    public void For_gives_a_valid_spec_with_the_documented_defaults()
    {
        var spec = ContainerSpec.For("/bin/sh", "-c", "echo hi");

        Assert.Empty(spec.Validate());
        Assert.Null(spec.Root);
        Assert.Equal(ContainerSpec.CurrentOciVersion, spec.OciVersion);
        var process = spec.Process!;
        Assert.Equal(["/bin/sh", "-c", "echo hi"], process.Args);
        Assert.Equal(["PATH=" + ContainerSpec.DefaultPath], process.Env);
        Assert.Equal("/", process.Cwd);
        Assert.Equal(0u, process.User.Uid);
        Assert.Equal(0u, process.User.Gid);
        Assert.True(process.NoNewPrivileges);
        Assert.False(process.Terminal);
        Assert.Equal(
            [NamespaceType.Pid, NamespaceType.Network, NamespaceType.Ipc, NamespaceType.Uts, NamespaceType.Mount],
            spec.Linux!.Namespaces.Select(n => n.Type));
        Assert.All(spec.Linux.Namespaces, n => Assert.Null(n.Path));
        Assert.Null(spec.Linux.FindNamespace(NamespaceType.User));
        Assert.Equal(["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"], spec.Mounts.Select(m => m.Destination));
        Assert.Contains("/proc/kcore", spec.Linux.MaskedPaths);
        Assert.Contains("/proc/sys", spec.Linux.ReadonlyPaths);
    }

    [Fact]
    public void With_methods_return_a_new_spec_and_leave_the_original_unchanged()
    {
        var original = ContainerSpec.For("/bin/true");
        string before = original.ToJson();

        var changed = original
            .WithHostname("box").WithRootfs("/srv/rootfs", readOnly: true).WithEnv("A", "1").WithWorkingDirectory("/tmp")
            .WithUser(1000, 1000, 5, 6).WithUmask(0b000_010_010).WithTerminal().WithRlimit("RLIMIT_NOFILE", 64, 128)
            .WithBindMount("/srv/data", "/data", readOnly: true).WithTmpfs("/tmp", 1 << 20)
            .WithNamespace(NamespaceType.Cgroup).WithoutNamespace(NamespaceType.Ipc).WithUidMapping(0, 1000, 1)
            .WithAnnotation("a", "b");

        Assert.Equal(before, original.ToJson());
        Assert.NotEqual(original, changed);
        Assert.Empty(changed.Validate());
    }

    [Fact]
    public void WithDevice_makes_the_node_and_allows_it_in_the_device_cgroup_replacing_one_at_the_same_path()
    {
        var fuse = new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 };
        var unbuffered = new LinuxDevice { Path = "/dev/fuse", Type = "u", Major = 10, Minor = 230 };
        var fifo = new LinuxDevice { Path = "/run/pipe", Type = "p" };

        var spec = ContainerSpec.For("/bin/true").WithDevice(fuse, "r").WithDevice(unbuffered).WithDevice(fifo);

        Assert.Equal([unbuffered, fifo], spec.Linux!.Devices);
        Assert.Equal(
            [
                new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "r" },
                new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 230, Access = "rwm" },
            ],
            spec.Linux.Resources!.Devices);
        Assert.Empty(spec.Validate());
    }

    [Fact]
    public void WithMemoryHigh_sets_memory_high_in_unified_in_decimal_and_minus_one_as_max_beside_the_typed_limit()
    {
        var spec = ContainerSpec.For("/bin/true").WithMemoryLimit(1L << 30).WithMemoryHigh(512L << 20);
        var unlimited = spec.WithMemoryHigh(-1);

        Assert.Equal("536870912", spec.Linux!.Resources!.Unified["memory.high"]);
        Assert.Equal(1L << 30, spec.Linux.Resources.Memory!.Limit);
        Assert.Equal("max", Assert.Single(unlimited.Linux!.Resources!.Unified).Value);
        Assert.Empty(spec.Validate());
        Assert.Empty(unlimited.Validate());
    }

    [Fact]
    public void WithHostname_sets_the_hostname()
    {
        Assert.Equal("box", ContainerSpec.For("/bin/true").WithHostname("box").Hostname);
    }

    [Fact]
    public void WithRootfs_and_WithHostRootfs_switch_the_root()
    {
        var spec = ContainerSpec.For("/bin/true").WithRootfs("/srv/rootfs", readOnly: true);

        Assert.Equal(new RootSpec("/srv/rootfs", Readonly: true), spec.Root);
        Assert.Null(spec.WithHostRootfs().Root);
    }

    [Fact]
    public void WithEnv_adds_a_variable_and_replaces_one_with_the_same_key_in_place()
    {
        var spec = ContainerSpec.For("/bin/true").WithEnv("HOME", "/root").WithEnv("LANG", "C").WithEnv("HOME", "/home/u");

        Assert.Equal(["PATH=" + ContainerSpec.DefaultPath, "HOME=/home/u", "LANG=C"], spec.Process!.Env);
    }

    [Fact]
    public void WithEnv_does_not_confuse_a_key_with_a_longer_key_sharing_its_prefix()
    {
        var spec = ContainerSpec.For("/bin/true").WithEnv("PATHX", "1");

        Assert.Equal(["PATH=" + ContainerSpec.DefaultPath, "PATHX=1"], spec.Process!.Env);
    }

    [Fact]
    public void WithWorkingDirectory_sets_cwd()
    {
        Assert.Equal("/work", ContainerSpec.For("/bin/true").WithWorkingDirectory("/work").Process!.Cwd);
    }

    [Fact]
    public void WithUser_sets_ids_and_groups_and_keeps_the_umask()
    {
        var user = ContainerSpec.For("/bin/true").WithUmask(0b000_010_010).WithUser(1000, 100, 5, 27).Process!.User;

        Assert.Equal(1000u, user.Uid);
        Assert.Equal(100u, user.Gid);
        Assert.Equal([5u, 27u], user.AdditionalGids);
        Assert.Equal(18u, user.Umask);
    }

    [Fact]
    public void WithTerminal_false_also_drops_the_console_size()
    {
        var spec = ContainerSpec.For("/bin/sh").WithTerminal();
        spec = spec with { Process = spec.Process! with { ConsoleSize = new ConsoleSize(24, 80) } };

        var plain = spec.WithTerminal(false);

        Assert.False(plain.Process!.Terminal);
        Assert.Null(plain.Process.ConsoleSize);
        Assert.Empty(plain.Validate());
    }

    [Fact]
    public void WithRlimit_replaces_a_limit_of_the_same_type()
    {
        var spec = ContainerSpec.For("/bin/true").WithRlimit("RLIMIT_NOFILE", 10, 20).WithRlimit("RLIMIT_NPROC", 1, 1)
            .WithRlimit("RLIMIT_NOFILE", 30, 40);

        Assert.Equal([new PosixRlimit("RLIMIT_NPROC", 1, 1), new PosixRlimit("RLIMIT_NOFILE", Hard: 40, Soft: 30)], spec.Process!.Rlimits);
    }

    [Fact]
    public void WithBindMount_adds_a_recursive_bind_with_ro_or_rw()
    {
        var spec = ContainerSpec.For("/bin/true").WithBindMount("/srv/a", "/a", readOnly: true).WithBindMount("/srv/b", "/b");

        Assert.Equal(new MountSpec { Destination = "/a", Type = "bind", Source = "/srv/a", Options = ["rbind", "ro"] }, spec.Mounts[^2]);
        Assert.Equal(new MountSpec { Destination = "/b", Type = "bind", Source = "/srv/b", Options = ["rbind", "rw"] }, spec.Mounts[^1]);
    }

    [Fact]
    public void WithMount_replaces_a_mount_at_the_same_destination_in_place()
    {
        var spec = ContainerSpec.For("/bin/true").WithTmpfs("/dev/shm", 1024);

        Assert.Equal(["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"], spec.Mounts.Select(m => m.Destination));
        Assert.Contains("size=1024", spec.Mounts[3].Options);
    }

    [Fact]
    public void WithShmSize_replaces_the_size_of_dev_shm_and_keeps_its_other_options_and_place()
    {
        var standard = ContainerSpec.For("/bin/true");
        var sized = standard.WithShmSize(1L << 30);

        Assert.Equal(standard.Mounts.Select(m => m.Destination), sized.Mounts.Select(m => m.Destination));
        Assert.Equal(["nosuid", "noexec", "nodev", "mode=1777", "size=1073741824"], sized.Mounts[3].Options);
        Assert.Throws<ArgumentOutOfRangeException>(() => standard.WithShmSize(0));
        Assert.Throws<InvalidOperationException>(() => (standard with { Mounts = [] }).WithShmSize(1024));
    }

    [Fact]
    public void WithTmpfs_without_a_size_leaves_the_kernel_default()
    {
        var mount = ContainerSpec.For("/bin/true").WithTmpfs("/tmp").Mounts[^1];

        Assert.Equal("tmpfs", mount.Type);
        Assert.DoesNotContain(mount.Options, o => o.StartsWith("size=", StringComparison.Ordinal));
    }

    [Fact]
    public void WithNamespacePath_joins_and_WithNamespace_makes_it_new_again()
    {
        var joined = ContainerSpec.For("/bin/true").WithNamespacePath(NamespaceType.Network, "/proc/42/ns/net");

        Assert.Equal(new LinuxNamespace(NamespaceType.Network, "/proc/42/ns/net"), joined.Linux!.FindNamespace(NamespaceType.Network));
        Assert.Single(joined.Linux.Namespaces, n => n.Type == NamespaceType.Network);
        Assert.Equal(new LinuxNamespace(NamespaceType.Network), joined.WithNamespace(NamespaceType.Network).Linux!.FindNamespace(NamespaceType.Network));
    }

    [Fact]
    public void WithoutNamespace_shares_that_namespace_with_the_host()
    {
        var spec = ContainerSpec.For("/bin/true").WithoutNamespace(NamespaceType.Pid);

        Assert.Null(spec.Linux!.FindNamespace(NamespaceType.Pid));
        Assert.Equal(4, spec.Linux.Namespaces.Length);
    }

    [Fact]
    public void Id_mappings_add_a_new_user_namespace_once()
    {
        var spec = ContainerSpec.For("/bin/true").WithUidMapping(0, 1000, 1).WithGidMapping(0, 1000, 1).WithUidMapping(1, 100000, 65536);

        Assert.Single(spec.Linux!.Namespaces, n => n.Type == NamespaceType.User);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1), new LinuxIdMapping(1, 100000, 65536)], spec.Linux.UidMappings);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1)], spec.Linux.GidMappings);
        Assert.Empty(spec.Validate());
    }

    [Fact]
    public void WithNetwork_none_is_a_new_network_namespace_and_host_shares_the_hosts()
    {
        var host = ContainerSpec.For("/bin/true").WithNetwork(NetworkMode.Host);
        var none = host.WithNetwork(NetworkMode.None);

        Assert.Null(host.Linux!.FindNamespace(NamespaceType.Network));
        Assert.Equal(new LinuxNamespace(NamespaceType.Network), none.Linux!.FindNamespace(NamespaceType.Network));
    }

    [Fact]
    public void Builder_methods_work_on_a_spec_without_process_or_linux()
    {
        var spec = new ContainerSpec().WithEnv("A", "1").WithNamespace(NamespaceType.Pid);

        Assert.Equal(["A=1"], spec.Process!.Env);
        Assert.Equal([new LinuxNamespace(NamespaceType.Pid)], spec.Linux!.Namespaces);
    }

    [Fact]
    public void ResolveBundlePaths_makes_the_root_and_relative_bind_sources_absolute()
    {
        var spec = new ContainerSpec
        {
            Root = new RootSpec("rootfs"),
            Mounts =
            [
                new MountSpec { Destination = "/data", Type = "none", Source = "data", Options = ["rbind"] },
                new MountSpec { Destination = "/abs", Type = "bind", Source = "/srv/abs" },
                new MountSpec { Destination = "/proc", Type = "proc", Source = "proc" },
            ],
        };

        var resolved = spec.ResolveBundlePaths("/srv/bundle");

        Assert.Equal("/srv/bundle/rootfs", resolved.Root!.Path);
        Assert.Equal(["/srv/bundle/data", "/srv/abs", "proc"], resolved.Mounts.Select(m => m.Source));
        Assert.Null(ContainerSpec.For("/bin/true").ResolveBundlePaths("/srv/bundle").Root);
    }

    [Fact]
    public void NamespaceTypeNames_round_trip_every_type_and_reject_others()
    {
        foreach (var type in Enum.GetValues<NamespaceType>())
        {
            Assert.True(NamespaceTypeNames.TryParse(type.ToOciName(), out var parsed));
            Assert.Equal(type, parsed);
        }

        Assert.False(NamespaceTypeNames.TryParse("Network", out _));
        Assert.False(NamespaceTypeNames.TryParse("net", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((NamespaceType)99).ToOciName());
    }
}
