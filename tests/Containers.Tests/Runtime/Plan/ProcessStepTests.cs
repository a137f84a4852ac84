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
            "Dup2 slot3 0",
            "Dup2 slot4 1",
            "Dup2 slot5 2",
            "Umask 077",
            "SetGroups [27]",
            "SetResGid 1000 1000 1000",
            "SetResUid 1000 1000 1000",
            "ChangeDirectory /work",
            "Prctl 38 1 0 0",
        ], plan.Lines);
        Assert.Equal([FdKind.Stdin, FdKind.Stdout, FdKind.Stderr], context.Fds.Select(f => f.Kind));
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
    public void Null_stdio_puts_one_dev_null_on_all_three_fds()
    {
        var context = StepRunner.Context(ContainerSpec.For("/bin/true"), FakeHost.Debian(), ContainerStdio.Null);

        var plan = StepRunner.Run(context, ProcessStep.Apply);

        Assert.Equal(["Dup2 slot3 0", "Dup2 slot3 1", "Dup2 slot3 2"], plan.Lines.Take(3));
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
