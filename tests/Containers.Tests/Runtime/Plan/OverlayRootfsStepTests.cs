using System.Collections.Immutable;
using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class OverlayRootfsStepTests
{
    // Lower directories must exist; these do on every Linux host the tests run on.
    private static readonly OverlayRootfs TwoLayers = OverlayRootfs.FromDirectories(["/usr", "/etc"]);

    private static PlanContext Context(ContainerSpec spec, OverlayRootfs overlay, IHostView? host = null, bool userNamespace = false)
    {
        var context = new PlanContext(spec, spec.Process!, host ?? FakeHost.Debian(),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: true, StepRunner.RootMountPoint, Overlay: overlay));
        context.NewNamespaces = CloneFlags.NewNs | CloneFlags.NewPid | (userNamespace ? CloneFlags.NewUser : 0);
        context.InUserNamespace = userNamespace;
        return context;
    }

    [Fact]
    public void An_overlay_root_gives_each_lower_directory_its_own_lowerdir_plus_and_takes_upper_and_work_from_the_containers_directory()
    {
        var context = Context(ContainerSpec.For("/bin/true"), TwoLayers);

        var plan = StepRunner.Run(context, RootfsStep.Apply);

        Assert.Equal(
        [
            "MakePrivate / Recursive|Private",
            $"FsMount overlay {StepRunner.RootMountPoint} [lowerdir+=/usr,lowerdir+=/etc,upperdir=upper,workdir=work] slot3 None",
            $"Root {StepRunner.RootMountPoint}",
        ], plan.Lines);
        Assert.Equal([new FdSource(FdKind.ContainerDirectory)], context.Fds);
    }

    [Fact]
    public void A_read_only_overlay_keeps_an_upper_directory_for_the_mount_points_and_is_made_read_only_after_the_pivot()
    {
        var spec = ContainerSpec.For("/bin/true").WithHostRootfs(readOnly: true);

        var layered = StepRunner.Run(Context(spec, TwoLayers), RootfsStep.Apply);
        var single = StepRunner.Run(Context(spec, OverlayRootfs.FromDirectory("/usr")), RootfsStep.Apply);
        var entered = StepRunner.Run(Context(spec, TwoLayers), EnterRootStep.Apply);

        Assert.Equal($"FsMount overlay {StepRunner.RootMountPoint} [lowerdir+=/usr,lowerdir+=/etc,upperdir=upper,workdir=work] slot3 None", layered.Lines[1]);
        Assert.Equal($"FsMount overlay {StepRunner.RootMountPoint} [lowerdir+=/usr,upperdir=upper,workdir=work] slot3 None", single.Lines[1]);
        Assert.Equal(["PivotRoot", "MountSetAttr / ReadOnly None"], entered.Lines);
    }

    [Fact]
    public void In_a_user_namespace_the_overlay_keeps_its_metadata_in_user_xattrs()
    {
        var context = Context(ContainerSpec.For("/bin/true"), TwoLayers, FakeHost.Debian(uid: 1000), userNamespace: true);

        var plan = StepRunner.Run(context, RootfsStep.Apply);

        Assert.EndsWith(",upperdir=upper,workdir=work,userxattr] slot3 None", plan.Lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void An_overlay_and_a_root_path_together_are_refused_before_anything_is_planned()
    {
        var context = Context(ContainerSpec.For("/bin/true").WithRootfs("/srv/rootfs"), TwoLayers);

        var error = Assert.Throws<InvalidSpecException>(() => RootfsStep.Apply(context));

        Assert.Contains("root.path", error.Message, StringComparison.Ordinal);
        Assert.Empty(context.Plan.Build().Codes);
    }

    [Fact]
    public void The_program_is_found_through_the_layers_the_topmost_first_with_links_crossing_layers()
    {
        var host = FakeHost.Debian()
            .WithDirectory("/l1").WithDirectory("/l1/bin").WithLink("/l1/bin/sh", "/usr/bin/busybox")
            .WithDirectory("/l2").WithDirectory("/l2/usr").WithDirectory("/l2/usr/bin").WithFile("/l2/usr/bin/busybox")
            .WithDirectory("/l2/bin").WithFile("/l2/bin/sh", (UnixFileMode)0x1a4);
        var files = ContainerFiles.Overlay(["/l1", "/l2"]);

        Assert.Equal(HostFileKind.File, files.Find(host, "/bin/sh")?.Kind);
        Assert.True(files.Find(host, "/bin/sh")!.IsExecutable, "/bin/sh of the top layer (a link to /usr/bin/busybox) wins over the lower one");
        Assert.Null(files.Find(host, "/bin/bash"));
    }
}
