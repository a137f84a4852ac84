using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class ProcessStepTests
{
    [Fact]
    public void Rlimits_pipes_ids_working_directory_and_no_new_privs_in_that_order()
    {
        var spec = ContainerSpec.For("/bin/true").WithRlimit("RLIMIT_NOFILE", 64, 128).WithUser(1000, 1000, 27).WithWorkingDirectory("/work").WithUmask(0x3f);
        var context = StepRunner.Context(spec, FakeHost.Debian());

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.Equal(
        [
            "SetRlimit 7 64 128",
            "SetSid",
            "Dup2 slot3 0",
            "Dup2 slot4 1",
            "Dup2 slot5 2",
            "Umask 077",
            "SetGroups [27]",
            "Prctl 8 1 0 0",
            "SetResGid 1000 1000 1000",
            "SetResUid 1000 1000 1000",
            "ChangeDirectory /work",
            "Prctl 38 1 0 0",
        ], plan.Lines);
        Assert.Equal([FdKind.Stdin, FdKind.Stdout, FdKind.Stderr], context.Fds.Select(f => f.Kind));
    }

    [Theory]
    [InlineData(0u, 0u, 0u, false)]       // root stays root: the host process's memory may be shared (CLONE_VM)
    [InlineData(0u, 1000u, 1000u, true)]  // root becomes another user: its own address space
    [InlineData(1000u, 0u, 0u, false)]    // rootless, root inside is the caller outside
    [InlineData(1000u, 5u, 5u, true)]     // rootless, another id inside is a subordinate id outside
    public void A_child_that_changes_its_host_ids_gets_its_own_address_space_so_the_host_stays_dumpable(uint hostUid, uint uid, uint gid, bool forkLike)
    {
        var host = new FakeHost { Uid = hostUid, Gid = hostUid, SubordinateIds = new SubordinateIds(100000, 65536, 100000, 65536) };
        var context = StepRunner.Context(ContainerSpec.For("/bin/true").WithUser(uid, gid), host);

        var plan = StepRunner.Run(context, NamespacesStep.Apply, ProcessStep.Apply);

        Assert.Equal(forkLike, plan.Flags.HasFlag(Containers.Linux.PlanFlags.ForkLike));
    }

    [Fact]
    public void Setgroups_is_left_out_where_the_kernel_denies_it_and_no_groups_are_asked_for()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true"), FakeHost.Debian(uid: 1000));
        context.SetGroupsAllowed = false;

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.DoesNotContain(plan.Lines, l => l.StartsWith("SetGroups", StringComparison.Ordinal));
    }

    [Fact]
    public void A_terminal_opens_the_containers_pty_and_makes_it_the_controlling_terminal()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/sh").WithTerminal(), FakeHost.Debian());

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.Equal(["OpenPty /dev/ptmx slot3", "SetSid", "SetCtty 0"], plan.Lines.Take(3));
        Assert.Equal([FdKind.TerminalSocket], context.Fds.Select(f => f.Kind));
    }

    [Fact]
    public void Without_a_terminal_the_process_still_gets_a_session_of_its_own_and_so_no_controlling_terminal()
    {
        foreach (var stdio in Enum.GetValues<ContainerStdio>())
        {
            var plan = StepRunner.Run(StepRunner.Context(ContainerSpec.For("/bin/true"), FakeHost.Debian(), stdio), ProcessStep.Apply);

            Assert.Equal("SetSid", plan.Lines[0]);
        }
    }

    [Fact]
    public void An_exec_gets_no_new_privs_when_the_container_has_it_whatever_its_own_process_says()
    {
        var container = ContainerSpec.For("/bin/sleep", "30");
        var context = new PlanContext(container, container.Process! with { NoNewPrivileges = false }, FakeHost.Debian(),
            new PlanSettings(ContainerStdio.Pipes, Init: false, WaitsForStart: false, RootMountPoint: ""));

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.Equal("Prctl 38 1 0 0", plan.Lines[^1]);
    }

    [Fact]
    public void Null_stdio_puts_one_dev_null_on_all_three_fds()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true"), FakeHost.Debian(), ContainerStdio.Null);

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.Equal(["SetSid", "Dup2 slot3 0", "Dup2 slot3 1", "Dup2 slot3 2"], plan.Lines.Take(4));
        Assert.Equal([FdKind.DevNull], context.Fds.Select(f => f.Kind));
    }

    [Fact]
    public void An_unknown_rlimit_is_an_invalid_spec()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true").WithRlimit("RLIMIT_BOGUS", 1, 1), FakeHost.Debian());

        var error = Assert.Throws<InvalidSpecException>(() => ProcessStep.Apply(context));

        Assert.Contains(error.Errors, e => e.JsonPath == "process.rlimits");
    }
}
