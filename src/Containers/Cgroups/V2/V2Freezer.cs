namespace Containers.Cgroups.V2;

/// <summary>The v2 freezer (<c>cgroup.freeze</c>, with <c>frozen</c> in <c>cgroup.events</c> once every task has stopped) and <c>cgroup.kill</c>.</summary>
internal static class V2Freezer
{
    public static async Task FreezeAsync(string dir, CancellationToken cancellationToken)
    {
        CgroupFile.Write(dir, "cgroup.freeze", "1", null);
        while (CgroupFile.TryReadKey(dir, "cgroup.events", "frozen") == 0)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    public static void Thaw(string dir) => CgroupFile.Write(dir, "cgroup.freeze", "0", null);

    public static bool IsFrozen(string dir) => CgroupFile.TryRead(dir, "cgroup.freeze") == "1";

    /// <summary>Whether the cgroup still has processes (<c>populated</c> of <c>cgroup.events</c>).</summary>
    public static bool IsPopulated(string dir) => CgroupFile.TryReadKey(dir, "cgroup.events", "populated") == 1;
}
