using System.Globalization;

namespace Containers.Cgroups;

/// <summary>A cpuset list as cpuset(7) writes it (<c>0-3,5</c>) and the host's online CPUs and memory nodes.</summary>
internal static class CpuSet
{
    /// <summary>The numbers a list names; the spec validator has checked its syntax.</summary>
    public static SortedSet<int> Parse(string list)
    {
        var set = new SortedSet<int>();
        foreach (var range in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var bounds = range.Split('-');
            var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            var last = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : first;
            for (var i = first; i <= last; i++)
            {
                set.Add(i);
            }
        }

        return set;
    }

    /// <summary>The online CPUs (<c>/sys/devices/system/cpu/online</c>).</summary>
    public static string OnlineCpus => CgroupFile.TryRead("/sys/devices/system/cpu", "online") ?? "0";

    /// <summary>The online memory nodes (<c>/sys/devices/system/node/online</c>; <c>0</c> on a kernel without NUMA).</summary>
    public static string OnlineNodes => CgroupFile.TryRead("/sys/devices/system/node", "online") ?? "0";

    /// <summary>Throws when <paramref name="list"/> names a CPU or node outside <paramref name="available"/>.</summary>
    public static void RequireWithin(string? list, string available, string field, string what)
    {
        if (list is null)
        {
            return;
        }

        var outside = Parse(list);
        outside.ExceptWith(Parse(available));
        if (outside.Count > 0)
        {
            throw new CgroupException(field, $"{what} {string.Join(',', outside)} {(outside.Count == 1 ? "is" : "are")} not on this host, which has {what}s {available}: pick from those");
        }
    }
}
