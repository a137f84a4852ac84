using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>
/// The v2 hugetlb controller: <c>hugetlb.&lt;size&gt;.max</c> per page size, the bytes of huge pages of that size
/// the container's tasks may fault in or allocate (a page past it is refused: ENOSPC from fallocate on hugetlbfs,
/// SIGBUS on a fault).
/// </summary>
internal static class V2Hugetlb
{
    public const string Name = "hugetlb";

    private const string Field = "linux.resources.hugepageLimits";

    /// <summary>Refuses a page size this kernel has no pool of (<c>/sys/kernel/mm/hugepages</c>).</summary>
    public static void Validate(IReadOnlyList<LinuxHugepageLimit> limits)
    {
        for (var i = 0; i < limits.Count; i++)
        {
            var kilobytes = Kilobytes(limits[i].PageSize)
                ?? throw new CgroupException($"{Field}[{i}].pageSize", $"'{limits[i].PageSize}' is not a page size such as 2MB or 1GB");
            if (!Directory.Exists($"/sys/kernel/mm/hugepages/hugepages-{kilobytes.ToString(CultureInfo.InvariantCulture)}kB"))
            {
                var sizes = Directory.Exists("/sys/kernel/mm/hugepages")
                    ? string.Join(", ", Directory.EnumerateDirectories("/sys/kernel/mm/hugepages").Select(Path.GetFileName))
                    : "none";
                throw new CgroupException($"{Field}[{i}].pageSize", $"this kernel has no {limits[i].PageSize} huge pages (it has: {sizes})");
            }
        }
    }

    public static void Apply(string dir, IReadOnlyList<LinuxHugepageLimit> limits)
    {
        for (var i = 0; i < limits.Count; i++)
        {
            CgroupFile.Write(dir, $"hugetlb.{limits[i].PageSize}.max", limits[i].Limit.ToString(CultureInfo.InvariantCulture), $"{Field}[{i}]");
        }
    }

    /// <summary>A cgroup file's page size (<c>64KB</c>, <c>2MB</c>, <c>1GB</c>) in kilobytes, or null when it is not one.</summary>
    public static long? Kilobytes(string pageSize)
    {
        if (pageSize.Length < 3 || !long.TryParse(pageSize.AsSpan(0, pageSize.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            return null;
        }

        return pageSize[^2..] switch
        {
            "KB" => number,
            "MB" => number * 1024,
            "GB" => number * 1024 * 1024,
            _ => null,
        };
    }
}
