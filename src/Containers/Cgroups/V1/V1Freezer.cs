namespace Containers.Cgroups.V1;

/// <summary>The v1 freezer: pause and resume the container's own cgroup (never a root: the root has no freezer.state).</summary>
internal static class V1Freezer
{
    public const string Name = "freezer";

    public static async Task FreezeAsync(string dir, CancellationToken cancellationToken)
    {
        CgroupFile.Write(dir, "freezer.state", "FROZEN", null);

        // FREEZING until every task has stopped; a task in an uninterruptible sleep can hold it there a while.
        for (var attempt = 0; CgroupFile.TryRead(dir, "freezer.state") == "FREEZING"; attempt++)
        {
            if (attempt % 50 == 49)
            {
                CgroupFile.Write(dir, "freezer.state", "FROZEN", null);
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    public static void Thaw(string dir) => CgroupFile.Write(dir, "freezer.state", "THAWED", null);

    /// <summary>Whether a released cgroup's freezer reads as a new one's, thawed (<see cref="V1Driver.Recycle"/>).</summary>
    public static bool Renew(CgroupFiles files, string dir) => files.TryRead(dir, "freezer.state") == "THAWED";

    public static bool IsFrozen(string dir) => CgroupFile.TryRead(dir, "freezer.state") is "FROZEN" or "FREEZING";
}
