using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class RootfsStepTests
{
    private static PlanContext WithMountNamespace(ContainerSpec spec, IHostView host)
    {
        var context = StepRunner.Context(spec, host);
        context.NewNamespaces = CloneFlags.NewNs | CloneFlags.NewPid;
        return context;
    }

    [Fact]
    public void The_host_rootfs_binds_the_hosts_system_folders_read_only_on_a_tmpfs_with_tmp_run_var_tmp_and_home()
    {
        var context = WithMountNamespace(ContainerSpec.For("/bin/true"), FakeHost.Debian());

        var plan = StepRunner.Run(context, RootfsStep.Apply);

        Assert.Equal(
        [
            "MakePrivate / Recursive|Private",
            $"Mount tmpfs {StepRunner.RootMountPoint} tmpfs mode=755,size=65536k NoSuid|NoDev",
            $"Root {StepRunner.RootMountPoint}",
            "MakeDirectory /usr 0755",
            "Bind /usr /usr ReadOnly [Recursive]",
            "Symlink usr/bin /bin",
            "Symlink usr/sbin /sbin",
            "Symlink usr/lib /lib",
            "Symlink usr/lib64 /lib64",
            "MakeDirectory /etc 0755",
            "Bind /etc /etc ReadOnly [Recursive]",
            "MakeDirectory /home 0755 [Parents|ExistOk]",
            "MakeDirectory /run 0755 [Parents|ExistOk]",
            "MakeDirectory /var/tmp 01777 [Parents|ExistOk]",
            "MakeDirectory /tmp 01777",
            "Mount tmpfs /tmp tmpfs mode=1777,size=65536k NoSuid|NoDev",
        ], plan.Lines);
    }

    [Fact]
    public void A_spec_mount_at_tmp_replaces_the_default_tmp()
    {
        var context = WithMountNamespace(ContainerSpec.For("/bin/true").WithTmpfs("/tmp", 1 << 20), FakeHost.Debian());

        var plan = StepRunner.Run(context, RootfsStep.Apply);

        Assert.DoesNotContain(plan.Lines, l => l.Contains("/tmp ", StringComparison.Ordinal) && !l.Contains("/var/tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void The_host_rootfs_shows_only_what_it_binds()
    {
        var host = FakeHost.Debian().WithFile("/opt/tool");
        var context = WithMountNamespace(ContainerSpec.For("/bin/true"), host);

        StepRunner.Run(context, RootfsStep.Apply);

        Assert.NotNull(context.Files!.Find(host, "/bin/sh"));
        Assert.Null(context.Files!.Find(host, "/opt/tool"));
        Assert.Null(context.Files!.Find(host, "/tmp"));
    }

    [Fact]
    public void A_directory_rootfs_is_bound_onto_itself_and_becomes_the_root()
    {
        var context = WithMountNamespace(ContainerSpec.For("/bin/true").WithRootfs("/srv/rootfs"), FakeHost.Debian().WithDirectory("/srv/rootfs"));

        var plan = StepRunner.Run(context, RootfsStep.Apply);

        Assert.Equal(["MakePrivate / Recursive|Private", "Bind /srv/rootfs /srv/rootfs None [Recursive]", "Root /srv/rootfs"], plan.Lines);
        Assert.Equal("/srv/rootfs", context.Files!.Root);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_rootfs_that_is_missing_or_not_a_directory_is_a_typed_error(bool isFile)
    {
        var host = isFile ? FakeHost.Debian().WithFile("/srv/rootfs") : FakeHost.Debian();
        var context = WithMountNamespace(ContainerSpec.For("/bin/true").WithRootfs("/srv/rootfs"), host);

        var error = Assert.Throws<RootfsNotFoundException>(() => RootfsStep.Apply(context));

        Assert.Equal("/srv/rootfs", error.Path);
    }

    [Fact]
    public void Without_a_mount_namespace_the_host_rootfs_is_the_hosts_files_and_a_rootfs_is_refused()
    {
        var host = FakeHost.Debian().WithFile("/opt/tool");
        var shared = StepRunner.Context(ContainerSpec.For("/bin/true"), host);

        var plan = StepRunner.Run(shared, RootfsStep.Apply);

        Assert.Empty(plan.Ops);
        Assert.NotNull(shared.Files!.Find(host, "/opt/tool"));
        var refused = StepRunner.Context(ContainerSpec.For("/bin/true").WithRootfs("/srv/rootfs"), host);
        Assert.Throws<InvalidSpecException>(() => RootfsStep.Apply(refused));
    }
}
