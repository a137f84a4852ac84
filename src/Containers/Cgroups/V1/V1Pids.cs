using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 pids controller: the task limit and count.</summary>
internal static class V1Pids
{
    public const string Name = "pids";

    public static bool Needed(LinuxResources resources) => resources.Pids is not null;

    /// <summary>The file a start with a task limit writes (<see cref="CgroupFiles.OpenAhead"/>).</summary>
    public static readonly string[] WrittenFiles = ["pids.max"];

    public static void Apply(CgroupFiles files, string dir, LinuxPids pids) =>
        files.Write(dir, "pids.max", pids.Limit == -1 ? "max" : pids.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "linux.resources.pids.limit");

    /// <summary>
    /// Lifts a released cgroup's task limit and says whether it then reads as a new one's (<see cref="V1Driver.Recycle"/>):
    /// not once a fork met the limit, which <c>pids.events</c> counts for good.
    /// </summary>
    public static bool Renew(CgroupFiles files, string dir)
    {
        if (files.TryRead(dir, "pids.max") != "max")
        {
            files.Write(dir, "pids.max", "max", null);
        }

        return files.TryRead(dir, "pids.events") == "max 0" && files.TryRead(dir, "pids.current") == "0";
    }

    public static (long? Current, long? Limit) Read(CgroupFiles files, string dir) =>
        (files.TryReadNumber(dir, "pids.current"), files.TryReadNumber(dir, "pids.max"));
}
