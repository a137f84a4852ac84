namespace Containers.Linux;

/// <summary>
/// A file descriptor slot of a plan: the plan names slots, the launch supplies the fds (so one plan can be
/// launched many times). Slots 0-2 are the launcher's own (plan.h, "fixed slots"); <see cref="PlanBuilder.ImportFd"/>
/// hands out the rest in the order <see cref="ChildProcess.Launch"/> expects its fds.
/// </summary>
/// <param name="Slot">Index into the launch's fd table.</param>
internal readonly record struct PlanFd(int Slot)
{
    /// <summary>The launcher's sync pipe, read by WAIT_FD.</summary>
    public static PlanFd Sync => new(PlanLayout.SlotSync);

    /// <summary>The containers-init memfd (<see cref="InitBinary"/>), exec'd by an EXEC through it.</summary>
    public static PlanFd Init => new(PlanLayout.SlotInit);

    /// <summary>The status pipe's write end, kept by containers-init when it keeps the program.</summary>
    public static PlanFd Status => new(PlanLayout.SlotStatus);
}
