using Containers.Linux;

namespace Containers.Tests.Linux;

public sealed class PlanBuilderTests
{
    [Fact]
    public void A_plan_that_asks_to_return_after_its_pivot_says_so_in_its_header()
    {
        var plan = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).MakePrivate().PivotRoot().ReturnAfterPivot().Exec("/bin/true", ["true"], []).Build());

        Assert.Equal(PlanFlags.WaitForPivot, plan.Flags);
    }

    [Fact]
    public void A_fork_like_plan_returns_at_once_since_its_child_has_memory_of_its_own()
    {
        var plan = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).ForkLike().PivotRoot().ReturnAfterPivot().Build());

        Assert.Equal(PlanFlags.ForkLike, plan.Flags);
    }

    [Fact]
    public void A_plan_whose_child_waits_for_its_parent_before_the_pivot_returns_at_once()
    {
        var waits = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).WaitForParent().PivotRoot().ReturnAfterPivot().Build());
        var forks = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).Fork().PivotRoot().ReturnAfterPivot().Build());
        var noPivot = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).ReturnAfterPivot().Exec("/bin/true", ["true"], []).Build());

        Assert.Equal(PlanFlags.None, waits.Flags);
        Assert.Equal(PlanFlags.None, forks.Flags);
        Assert.Equal(PlanFlags.None, noPivot.Flags);
    }

    [Fact]
    public void A_wait_after_the_pivot_does_not_keep_the_launch_from_returning_after_it()
    {
        var plan = PlanDecoder.Decode(new PlanBuilder(CloneFlags.NewNs).PivotRoot().WaitForParent().ReturnAfterPivot().Build());

        Assert.Equal(PlanFlags.WaitForPivot, plan.Flags);
    }
}
