using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// Enters the assembled root, in a new mount namespace only: creates a missing working directory (as Docker does,
/// resolved beneath the root so a link cannot lead out of it), pivot_roots, and makes the root read-only when the
/// spec asks (<c>root.readonly</c>; for the host rootfs, its tmpfs). The launch may return after the pivot
/// (<see cref="PlanBuilder.ReturnAfterPivot"/>).
/// </summary>
internal static class EnterRootStep
{
    private const uint DirectoryMode = 0x1ed; // 0755

    public static void Apply(PlanContext context)
    {
        if (!context.OwnsRoot)
        {
            return;
        }

        var plan = context.Plan;
        var cwd = context.Process.Cwd;
        if (cwd.TrimEnd('/').Length > 0 && context.Files?.Find(context.Host, cwd) is null)
        {
            plan.MakeDirectory(cwd, DirectoryMode, parents: true, stage: $"create the working directory {cwd}");
        }

        // The launch may return once the old root is detached: the caller's bookkeeping then runs while the child
        // finishes its setup and execs, not while the detach waits for every CPU.
        plan.PivotRoot().ReturnAfterPivot();
        if (context.Spec.Root?.Readonly == true)
        {
            plan.MountSetAttributes("/", MountAttributes.ReadOnly, stage: "make the root read-only");
        }
    }
}
