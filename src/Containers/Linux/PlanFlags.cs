namespace Containers.Linux;

/// <summary>Plan header flags; mirrors <c>CT_PLAN_*</c> in plan.h.</summary>
[Flags]
internal enum PlanFlags : uint
{
    None = 0,

    /// <summary>Clone without <c>CLONE_VM</c>: the child gets a copy of the address space.</summary>
    ForkLike = 0x1,

    /// <summary>The child does not get <c>PR_SET_PDEATHSIG(SIGKILL)</c>.</summary>
    NoParentDeathSignal = 0x2,

    /// <summary>The launch returns once the child's pivot_root has run (see <see cref="PlanBuilder.ReturnAfterPivot"/>).</summary>
    WaitForPivot = 0x4,
}
