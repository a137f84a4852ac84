namespace Containers.Linux;

/// <summary>
/// A file descriptor slot of a plan: the plan names slots, the launch supplies the fds (so one plan can be
/// launched many times). Slot 0 is the launcher's sync pipe; <see cref="PlanBuilder.ImportFd"/> hands out the rest
/// in the order <see cref="ChildProcess.Launch"/> expects its fds.
/// </summary>
/// <param name="Slot">Index into the launch's fd table.</param>
internal readonly record struct PlanFd(int Slot)
{
    /// <summary>The launcher's sync pipe, read by WAIT_FD.</summary>
    public static PlanFd Sync => new(0);
}
