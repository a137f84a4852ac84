using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class NamespacesStepTests
{
    [Fact]
    public void Root_clones_into_the_new_namespaces_and_sets_up_loopback_and_the_hostname()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true").WithHostname("box"), FakeHost.Debian());

        var plan = StepRunner.Run(context, NamespacesStep.Apply);

        Assert.Equal(CloneFlags.NewPid | CloneFlags.NewNet | CloneFlags.NewIpc | CloneFlags.NewUts | CloneFlags.NewNs, plan.CloneFlags);
        Assert.Equal(["LoopbackUp", "SetHostname box", "Umask 0"], plan.Lines);
        Assert.Null(context.Mapping);
        Assert.False(context.InUserNamespace);
        Assert.True(context.SetGroupsAllowed);
    }

    [Fact]
    public void A_pooled_network_namespace_is_joined_from_the_launchers_slot_instead_of_cloned_and_comes_with_loopback_up()
    {
        var spec = ContainerSpec.For("/bin/true").WithHostname("box");
        var context = new PlanContext(spec, spec.Process!, FakeHost.Debian(),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: true, StepRunner.RootMountPoint, PooledNetwork: true));

        var plan = StepRunner.Run(context, NamespacesStep.Apply);

        Assert.Equal(CloneFlags.NewPid | CloneFlags.NewIpc | CloneFlags.NewUts | CloneFlags.NewNs, plan.CloneFlags);
        Assert.Equal(["SetNs slot3 NewNet", "SetHostname box", "Umask 0"], plan.Lines);
        Assert.True(context.UsesPooledNetwork);
        Assert.Equal(context.NewNamespaces, plan.CloneFlags | CloneFlags.NewNet);
        Assert.Equal([new FdSource(FdKind.PooledNetwork)], context.Fds);
    }

    [Theory]
    [InlineData(1000, false)] // rootless: the child's own user namespace has no rights over the parent's namespaces
    [InlineData(0, true)]     // root asking for a user namespace: the same
    public void A_start_in_a_new_user_namespace_clones_its_own_network_namespace_even_when_the_pool_is_on(uint uid, bool userNamespace)
    {
        var spec = ContainerSpec.For("/bin/true");
        spec = userNamespace ? spec.WithNamespace(NamespaceType.User) : spec;
        var context = new PlanContext(spec, spec.Process!, FakeHost.Debian(uid: uid),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: true, StepRunner.RootMountPoint, PooledNetwork: true));

        var plan = StepRunner.Run(context, NamespacesStep.Apply);

        Assert.True(plan.CloneFlags.HasFlag(CloneFlags.NewNet));
        Assert.Contains("LoopbackUp", plan.Lines);
        Assert.False(context.UsesPooledNetwork);
        Assert.Empty(context.Fds);
    }

    [Fact]
    public void An_unprivileged_caller_gets_a_user_namespace_mapping_itself_to_root_and_waits_for_the_maps()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true").WithoutNamespace(NamespaceType.Network), FakeHost.Debian(uid: 1000));

        var plan = StepRunner.Run(context, NamespacesStep.Apply);

        Assert.True(plan.CloneFlags.HasFlag(CloneFlags.NewUser));
        Assert.Equal(["WaitFd slot0", "SetResGid 0 0 0", "SetResUid 0 0 0", "Umask 0"], plan.Lines);
        var mapping = Assert.IsType<UserNamespaceMapping>(context.Mapping);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1)], mapping.Uids);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1)], mapping.Gids);
        Assert.False(context.SetGroupsAllowed);
        Assert.True(context.InUserNamespace);
    }

    [Fact]
    public void Subordinate_ids_are_mapped_from_1_and_allow_setgroups()
    {
        var host = new FakeHost { Uid = 1000, Gid = 1001, SubordinateIds = new SubordinateIds(100000, 65536, 200000, 65536) };
        var context = StepRunner.Context(ContainerSpec.For("/bin/true"), host);

        StepRunner.Run(context, NamespacesStep.Apply);

        var mapping = context.Mapping!;
        Assert.Equal([new LinuxIdMapping(0, 1000, 1), new LinuxIdMapping(1, 100000, 65536)], mapping.Uids);
        Assert.Equal([new LinuxIdMapping(0, 1001, 1), new LinuxIdMapping(1, 200000, 65536)], mapping.Gids);
        Assert.True(context.SetGroupsAllowed);
    }

    [Fact]
    public void Root_maps_every_id_in_a_user_namespace_the_spec_asks_for_and_the_specs_own_maps_win()
    {
        var identity = StepRunner.Context(ContainerSpec.For("/bin/true").WithNamespace(NamespaceType.User), FakeHost.Debian());
        StepRunner.Run(identity, NamespacesStep.Apply);
        Assert.Equal([new LinuxIdMapping(0, 0, uint.MaxValue)], identity.Mapping!.Uids);

        var own = StepRunner.Context(ContainerSpec.For("/bin/true").WithUidMapping(0, 100000, 1000), FakeHost.Debian());
        StepRunner.Run(own, NamespacesStep.Apply);
        Assert.Equal([new LinuxIdMapping(0, 100000, 1000)], own.Mapping!.Uids);
        Assert.Equal([new LinuxIdMapping(0, 100000, 1000)], own.Mapping.Gids);
    }

    [Fact]
    public void Joined_namespaces_are_imported_fds_with_the_user_namespace_first_and_a_pid_join_forks()
    {
        var spec = ContainerSpec.For("/bin/true")
            .WithNamespacePath(NamespaceType.Network, "/proc/7/ns/net")
            .WithNamespacePath(NamespaceType.Pid, "/proc/7/ns/pid")
            .WithNamespacePath(NamespaceType.User, "/proc/7/ns/user");
        var context = StepRunner.Context(spec, FakeHost.Debian());

        var plan = StepRunner.Run(context, NamespacesStep.Apply);

        Assert.Equal(PlanFlags.ForkLike, plan.Flags);
        Assert.Equal(CloneFlags.NewIpc | CloneFlags.NewUts | CloneFlags.NewNs, plan.CloneFlags);
        Assert.Equal(["SetNs slot3 NewUser", "SetNs slot4 NewPid", "SetNs slot5 NewNet", "Fork", "Umask 0"], plan.Lines);
        Assert.Equal(["/proc/7/ns/user", "/proc/7/ns/pid", "/proc/7/ns/net"], context.Fds.Select(f => f.Path));
        Assert.True(context.InUserNamespace);
        Assert.Null(context.Mapping);
    }
}
