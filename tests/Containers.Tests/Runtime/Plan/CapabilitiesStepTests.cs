using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Security;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class CapabilitiesStepTests
{
    // Docker's default set less CAP_MKNOD (27): CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6,
    // SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10, NET_RAW 13, SYS_CHROOT 18, AUDIT_WRITE 29, SETFCAP 31.
    private const string DefaultMask = "0xa00425fb";

    // Every capability up to 40 outside the default set; its lowest, CAP_DAC_READ_SEARCH (2), is the probe.
    private const string DefaultDrops = "drop 0x1ff5ffbda04";

    [Fact]
    public void Without_capabilities_in_the_spec_the_process_gets_docker_s_default_set_less_mknod()
    {
        var plan = StepRunner.Run(StepRunner.Context(ContainerSpec.For("/bin/true"), FakeHost.Debian()), CapabilitiesStep.Apply);

        Assert.Equal([$"CapSet {DefaultMask} {DefaultMask} 0x0 {DefaultDrops} unless-2 []"], plan.Lines);
    }

    [Fact]
    public void The_default_set_asks_for_a_launch_thread_that_holds_it_unless_a_user_namespace_resets_the_bounding_set()
    {
        var spec = ContainerSpec.For("/bin/true");
        var host = StepRunner.Context(spec, FakeHost.Debian());
        var inUserNamespace = StepRunner.Context(spec, FakeHost.Debian());
        inUserNamespace.InUserNamespace = true;
        var custom = StepRunner.Context(spec.WithCapabilitiesDropped("CAP_KILL"), FakeHost.Debian());
        var privileged = StepRunner.Context(spec.WithPrivileged(), FakeHost.Debian());

        foreach (var context in new[] { host, inUserNamespace, custom, privileged })
        {
            CapabilitiesStep.Apply(context);
        }

        Assert.Equal(0xa00425fbUL, host.Plan.Build().LaunchBoundingSet);
        Assert.Null(inUserNamespace.Plan.Build().LaunchBoundingSet);
        Assert.Null(custom.Plan.Build().LaunchBoundingSet);
        Assert.Null(privileged.Plan.Build().LaunchBoundingSet);
    }

    [Fact]
    public void The_drops_are_what_the_launch_thread_holds_beyond_the_set_and_in_a_user_namespace_every_capability_the_kernel_has()
    {
        // Without CAP_SYS_RESOURCE (24), as this machine: the launch thread has nothing of it to drop. A user
        // namespace's bounding set is full whatever the host's, up to the kernel's last capability, even past 63.
        var host = new FakeHost { BoundingSet = ~(1UL << 24) & ((1UL << 41) - 1) };
        var newer = new FakeHost { BoundingSet = ulong.MaxValue, LastCapability = 65 };
        var spec = ContainerSpec.For("/bin/true");
        var plain = StepRunner.Context(spec, host);
        var inUserNamespace = StepRunner.Context(spec, host);
        inUserNamespace.InUserNamespace = true;
        var newerKernel = StepRunner.Context(spec.WithCapabilitiesDropped("ALL"), newer);
        newerKernel.InUserNamespace = true;

        Assert.Equal([$"CapSet {DefaultMask} {DefaultMask} 0x0 drop 0x1ff5efbda04 unless-2 []"], StepRunner.Run(plain, CapabilitiesStep.Apply).Lines);
        Assert.Equal([$"CapSet {DefaultMask} {DefaultMask} 0x0 {DefaultDrops} - []"], StepRunner.Run(inUserNamespace, CapabilitiesStep.Apply).Lines);
        Assert.Equal(["CapSet 0x0 0x0 0x0 drop 0xffffffffffffffff+64,65 - []"], StepRunner.Run(newerKernel, CapabilitiesStep.Apply).Lines);
    }

    [Fact]
    public void A_privileged_process_keeps_the_host_s_whole_bounding_set_with_nothing_to_drop_or_probe()
    {
        var host = new FakeHost { BoundingSet = ~(1UL << 24) & ((1UL << 41) - 1) };
        var context = StepRunner.Context(ContainerSpec.For("/bin/true").WithCapabilities(LinuxCapabilities.Of(
            CapabilityNames.All.Where((_, n) => (host.BoundingSet & (1UL << n)) != 0))), host);

        var plan = StepRunner.Run(context, CapabilitiesStep.Apply);

        Assert.Equal(["CapSet 0x1fffeffffff 0x1fffeffffff 0x0 drop 0x0 - []"], plan.Lines);
        Assert.Null(context.Plan.Build().LaunchBoundingSet);
    }

    [Fact]
    public void The_default_set_leaves_out_what_the_host_s_bounding_set_lacks()
    {
        var host = new FakeHost { BoundingSet = ~(1UL << 29) & ((1UL << 41) - 1) }; // no CAP_AUDIT_WRITE

        var plan = StepRunner.Run(StepRunner.Context(ContainerSpec.For("/bin/true"), host), CapabilitiesStep.Apply);

        Assert.Equal([$"CapSet 0x800425fb 0x800425fb 0x0 {DefaultDrops} unless-2 []"], plan.Lines);
    }

    [Fact]
    public void The_spec_s_five_sets_are_applied_as_given()
    {
        var spec = ContainerSpec.For("/bin/true").WithCapabilities(new LinuxCapabilities
        {
            Bounding = ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
            Permitted = ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
            Effective = ["CAP_KILL"],
            Inheritable = ["CAP_NET_BIND_SERVICE"],
            Ambient = ["CAP_NET_BIND_SERVICE"],
        });

        var plan = StepRunner.Run(StepRunner.Context(spec, FakeHost.Debian()), CapabilitiesStep.Apply);

        Assert.Equal(["CapSet 0x20 0x420 0x400 drop 0x1fffffffbdf - [10]"], plan.Lines);
    }

    [Fact]
    public void A_capability_the_host_s_bounding_set_lacks_is_reported_by_name_before_anything_starts()
    {
        var host = new FakeHost { BoundingSet = ~(1UL << 24) & ((1UL << 41) - 1) }; // no CAP_SYS_RESOURCE
        var spec = ContainerSpec.For("/bin/true").WithCapabilitiesAdded("SYS_RESOURCE");

        var error = Assert.Throws<CapabilityUnavailableException>(() => StepRunner.Run(StepRunner.Context(spec, host), CapabilitiesStep.Apply));

        Assert.Equal(["CAP_SYS_RESOURCE"], error.Missing);
        Assert.Contains("CAP_SYS_RESOURCE is not in this host's capability bounding set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exec_gets_the_container_s_sets_and_keepcaps_comes_before_the_ids_change()
    {
        var container = ContainerSpec.For("/bin/sleep", "30").WithCapabilities(LinuxCapabilities.Of("CAP_KILL")).WithUser(1000, 1000);
        var context = new PlanContext(container, container.Process! with { Capabilities = null }, FakeHost.Debian(),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: false, RootMountPoint: ""));

        var lines = StepRunner.Run(context, ProcessStep.Apply, CapabilitiesStep.Apply).Lines.ToList();

        Assert.Equal("CapSet 0x20 0x20 0x0 drop 0x1ffffffffdf - []", lines[^1]);
        Assert.True(lines.IndexOf("Prctl 8 1 0 0") < lines.IndexOf("SetResUid 1000 1000 1000"));
    }

    [Fact]
    public void Both_pipelines_set_capabilities_after_the_process_step_and_an_exec_is_cloned_fork_like()
    {
        Assert.Equal(ContainerPlan.CreateSteps.ToList().IndexOf(ProcessStep.Apply) + 1, ContainerPlan.CreateSteps.ToList().IndexOf(CapabilitiesStep.Apply));
        Assert.Equal(ContainerPlan.ExecSteps.ToList().IndexOf(ProcessStep.Apply) + 1, ContainerPlan.ExecSteps.ToList().IndexOf(CapabilitiesStep.Apply));

        // A CLONE_VM child shares this process's dumpable memory; the FORK into the container's pid namespace would
        // copy that. Fork-like, the child turns non-dumpable before it joins anything.
        var container = ContainerSpec.For("/bin/sleep", "30");
        var context = new PlanContext(container, container.Process!, FakeHost.Debian(),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: false, RootMountPoint: "", ContainerPid: 4242));
        var plan = StepRunner.Run(context, JoinStep.Apply);
        Assert.Equal(Containers.Linux.PlanFlags.ForkLike, plan.Flags & Containers.Linux.PlanFlags.ForkLike);
    }
}
