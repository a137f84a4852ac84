using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class MountsStepTests
{
    private static PlanContext Context(ContainerSpec spec, IHostView host, CloneFlags namespaces, bool inUserNamespace = false)
    {
        var context = StepRunner.Context(spec, host);
        context.NewNamespaces = namespaces;
        context.InUserNamespace = inUserNamespace;
        context.Files = new ContainerFiles("/srv/rootfs", [], []);
        return context;
    }

    private static ContainerSpec Only(params MountSpec[] mounts) =>
        ContainerSpec.For("/bin/true") with { Mounts = [.. mounts], Linux = new LinuxSpec() };

    [Fact]
    public void Proc_is_mounted_with_a_new_pid_namespace_and_bound_from_the_host_in_a_user_namespace_without_one()
    {
        var proc = new MountSpec { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] };

        var own = StepRunner.Run(Context(Only(proc), FakeHost.Debian(), CloneFlags.NewNs | CloneFlags.NewPid), MountsStep.Apply);
        var borrowed = StepRunner.Run(Context(Only(proc), FakeHost.Debian(), CloneFlags.NewNs | CloneFlags.NewUser, inUserNamespace: true), MountsStep.Apply);

        Assert.Equal(["MakeDirectory /proc 0755 [Parents|ExistOk]", "Mount proc /proc proc - NoSuid|NoDev|NoExec"], own.Lines);
        Assert.Equal(["MakeDirectory /proc 0755 [Parents|ExistOk]", "Bind /proc /proc None [Recursive]"], borrowed.Lines);
    }

    [Fact]
    public void A_tmpfs_dev_gets_device_nodes_as_root_and_binds_of_the_hosts_nodes_in_a_user_namespace()
    {
        var dev = new MountSpec { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "mode=755"] };

        var root = StepRunner.Run(Context(Only(dev), FakeHost.Debian(), CloneFlags.NewNs | CloneFlags.NewIpc), MountsStep.Apply);
        var user = StepRunner.Run(Context(Only(dev), FakeHost.Debian(), CloneFlags.NewNs | CloneFlags.NewUser, inUserNamespace: true), MountsStep.Apply);

        Assert.Contains("MakeNode /dev/null 020666 1:3", root.Lines);
        Assert.Contains("MakeNode /dev/tty 020666 5:0", root.Lines);
        Assert.Contains("Symlink pts/ptmx /dev/ptmx", root.Lines);
        Assert.Contains("Mount mqueue /dev/mqueue mqueue - NoSuid|NoDev|NoExec [Optional]", root.Lines);
        Assert.DoesNotContain(user.Ops, o => o.Code == PlanOpCode.MakeNode);
        Assert.Contains("WriteFile /dev/null 0 bytes 0666", user.Lines);
        Assert.Contains("Bind /dev/null /dev/null None", user.Lines);
        Assert.DoesNotContain(user.Lines, l => l.Contains("mqueue", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_bind_gets_a_file_as_its_mount_point_and_a_directory_bind_a_directory()
    {
        var host = FakeHost.Debian().WithFile("/host/config.toml", (UnixFileMode)0x1a4).WithDirectory("/host/data");
        var spec = Only(MountSpec.Bind("/host/config.toml", "/etc/app/config.toml", readOnly: true), MountSpec.Bind("/host/data", "/data", readOnly: false));

        var plan = StepRunner.Run(Context(spec, host, CloneFlags.NewNs), MountsStep.Apply);

        Assert.Equal(
        [
            "MakeDirectory /etc/app 0755 [Parents|ExistOk]",
            "WriteFile /etc/app/config.toml 0 bytes 0644",
            "Bind /host/config.toml /etc/app/config.toml ReadOnly [Recursive]",
            "MakeDirectory /data 0755 [Parents|ExistOk]",
            "Bind /host/data /data None [Recursive]",
        ], plan.Lines);
    }

    [Fact]
    public void Masks_are_decided_in_the_child_and_read_only_paths_get_a_read_only_bind()
    {
        var spec = ContainerSpec.For("/bin/true") with
        {
            Mounts = [],
            Linux = new LinuxSpec { MaskedPaths = ["/proc/acpi", "/proc/kcore"], ReadonlyPaths = ["/proc/sys"] },
        };

        var plan = StepRunner.Run(Context(spec, FakeHost.Debian(), CloneFlags.NewNs), MountsStep.Apply);

        Assert.Equal(
        [
            "CheckFs /proc 0x9fa0 [MissingOk]",
            "Bind /dev/null /proc/acpi None [MissingOk|Mask]",
            "Bind /dev/null /proc/kcore None [MissingOk|Mask]",
            "Bind /proc/sys /proc/sys ReadOnly [Recursive|SourceInRoot|MissingOk]",
        ], plan.Lines);
    }

    [Fact]
    public void The_masks_are_applied_only_after_proc_and_sys_are_checked_to_be_the_kernel_s_own()
    {
        var spec = ContainerSpec.For("/bin/true");

        var plan = StepRunner.Run(Context(spec, FakeHost.Debian(), CloneFlags.NewNs | CloneFlags.NewPid | CloneFlags.NewNet), MountsStep.Apply);

        var lines = plan.Lines.ToList();
        var firstMask = lines.FindIndex(l => l.Contains("[MissingOk|Mask]", StringComparison.Ordinal));
        Assert.Equal(firstMask - 2, lines.IndexOf("CheckFs /proc 0x9fa0 [MissingOk]"));
        Assert.Equal(firstMask - 1, lines.IndexOf("CheckFs /sys 0x62656572 [MissingOk]"));
        Assert.Equal(spec.Linux!.MaskedPaths.Length, lines.Count(l => l.EndsWith("[MissingOk|Mask]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Mounts_are_recorded_so_the_program_is_looked_up_where_it_will_be()
    {
        var host = FakeHost.Debian().WithFile("/host/tools/run").WithFile("/srv/rootfs/opt/old");
        var spec = Only(MountSpec.Bind("/host/tools", "/opt/tools", readOnly: true), MountSpec.Tmpfs("/opt", null));
        var context = Context(spec, host, CloneFlags.NewNs);

        StepRunner.Run(context, MountsStep.Apply);

        // The tmpfs at /opt comes last and hides both the rootfs's /opt and the bind below it.
        Assert.Null(context.Files!.Find(host, "/opt/old"));
        Assert.Null(context.Files!.Find(host, "/opt/tools/run"));
    }

    [Fact]
    public void Without_a_mount_namespace_nothing_is_mounted()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true"), FakeHost.Debian(), CloneFlags.NewPid), MountsStep.Apply);

        Assert.Empty(plan.Ops);
    }
}
