using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class EnterRootStepTests
{
    private static PlanContext Context(ContainerSpec spec, IHostView host)
    {
        var context = StepRunner.Context(spec, host);
        context.NewNamespaces = CloneFlags.NewNs;
        context.Files = new ContainerFiles("/srv/rootfs", [], []);
        return context;
    }

    [Fact]
    public void A_missing_working_directory_is_created_inside_the_root_before_pivot_root()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true").WithWorkingDirectory("/work/a"), FakeHost.Debian()), EnterRootStep.Apply);

        Assert.Equal(["MakeDirectory /work/a 0755 [Parents|ExistOk]", "PivotRoot"], plan.Lines);
        Assert.Equal("create the working directory /work/a", plan.Ops[0].Stage);
    }

    [Fact]
    public void An_existing_working_directory_is_left_alone()
    {
        var host = FakeHost.Debian().WithDirectory("/srv/rootfs/work");

        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true").WithWorkingDirectory("/work"), host), EnterRootStep.Apply);

        Assert.Equal(["PivotRoot"], plan.Lines);
    }

    [Fact]
    public void The_launch_may_return_once_the_child_pivoted()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true"), FakeHost.Debian()), EnterRootStep.Apply);

        Assert.Equal(PlanFlags.WaitForPivot, plan.Flags);
    }

    [Theory]
    [InlineData("/srv/rootfs")]
    [InlineData(null)]
    public void A_read_only_root_is_made_read_only_after_pivot_root_for_a_directory_and_for_the_host_rootfs(string? path)
    {
        var spec = ContainerSpec.For("/bin/true") with { Root = new RootSpec(path, Readonly: true) };

        var plan = StepRunner.Run(Context(spec, FakeHost.Debian()), EnterRootStep.Apply);

        Assert.Equal(["PivotRoot", "MountSetAttr / ReadOnly None"], plan.Lines);
    }

    [Fact]
    public void The_builder_says_read_only_host_rootfs_with_root_readonly()
    {
        var spec = ContainerSpec.For("/bin/true").WithHostRootfs(readOnly: true);

        Assert.Equal(new RootSpec(null, Readonly: true), spec.Root);
        Assert.Contains("\"readonly\":true", spec.ToString(), StringComparison.Ordinal);
        Assert.Equal(spec, ContainerSpec.FromJson(spec.ToJson()));
        Assert.Empty(spec.Validate());
    }
}
