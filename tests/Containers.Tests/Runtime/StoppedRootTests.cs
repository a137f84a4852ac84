using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;
using Containers.Tests.Linux;
using Containers.Tests.Runtime.Plan;

namespace Containers.Tests.Runtime;

/// <summary>The plan that holds a stopped container's root for a copy: the root and its binds, and no program at all.</summary>
public sealed class StoppedRootTests
{
    private static readonly ContainerSpec Stopped = ContainerSpec.For("/no/such/program")
        .WithHostname("box")
        .WithBindMount("/srv/cache", "/cache", readOnly: true)
        .WithTmpfs("/scratch", sizeBytes: 1 << 20)
        .WithUidMapping(0, 1000, 1)
        .WithGidMapping(0, 1000, 1);

    [Fact]
    public void The_holders_spec_keeps_the_mount_and_user_namespaces_the_id_maps_and_the_bind_mounts_only()
    {
        var holder = StoppedRoot.RootOnly(Stopped);

        Assert.Equal([NamespaceType.Mount, NamespaceType.User], holder.Linux!.Namespaces.Select(n => n.Type).Order());
        Assert.Equal(Stopped.Linux!.UidMappings, holder.Linux.UidMappings);
        Assert.Equal(["/cache"], holder.Mounts.Select(m => m.Destination));
        Assert.Null(holder.Hostname);
        Assert.Null(holder.Linux.Seccomp);
        Assert.Null(holder.Linux.Resources);
        Assert.Empty(holder.Linux.MaskedPaths);
    }

    [Fact]
    public void The_holders_plan_mounts_the_overlay_and_waits_and_has_no_exec_so_a_missing_program_does_not_matter()
    {
        var host = FakeHost.Debian().WithDirectory("/srv/cache");
        var plan = PlanDecoder.Decode(ContainerPlan.CompileRootOnly(StoppedRoot.RootOnly(Stopped), OverlayRootfs.FromDirectories(["/usr", "/etc"]), StepRunner.RootMountPoint, host).Plan);

        Assert.DoesNotContain(plan.Ops, o => o.Code == PlanOpCode.Exec);
        Assert.Contains(plan.Ops, o => o.Code == PlanOpCode.FsMount);
        Assert.Contains(plan.Ops, o => o.Code == PlanOpCode.Bind && o.Args[1] == "/cache");
        Assert.Equal(["CloseRange []", "WaitFd slot0 [Announce]"], plan.Lines.TakeLast(2));
    }
}
