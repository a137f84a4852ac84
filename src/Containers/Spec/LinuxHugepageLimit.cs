namespace Containers.Spec;

/// <summary>A hugetlb limit for one page size (<c>linux.resources.hugepageLimits[]</c>).</summary>
public sealed record LinuxHugepageLimit
{
    /// <summary>The page size with its unit, for example <c>2MB</c> (<c>pageSize</c>).</summary>
    public string PageSize { get; init => field = value ?? ""; } = "";

    /// <summary>The limit in bytes (<c>limit</c>).</summary>
    public ulong Limit { get; init; }
}
