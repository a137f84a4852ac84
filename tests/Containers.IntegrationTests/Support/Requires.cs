namespace Containers.IntegrationTests.Support;

/// <summary>
/// Skips a test, with its reason printed, when the machine cannot run it. A test never passes by skipping its work.
/// </summary>
internal static class Requires
{
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>Skips unless the test process runs as root.</summary>
    public static void Root() => Assert.SkipUnless(IsRoot, "needs root (run the suite as root; CI does)");

    /// <summary>Skips unless the test process runs as an unprivileged user.</summary>
    public static void NotRoot() => Assert.SkipWhen(IsRoot, "rootless test: runs in the unprivileged pass");

    /// <summary>
    /// Whether <c>/sys/fs/cgroup</c> is the unified (cgroup v2) hierarchy alone, as the kernel says in this process's
    /// mount table: a hybrid host (v1 controllers beside an unused v2 mount) is not.
    /// </summary>
    public static bool IsCgroupV2 => File.ReadLines("/proc/self/mountinfo")
        .Select(line => line.Split(" - ", 2))
        .Any(parts => parts.Length == 2 && parts[0].Split(' ')[4] == "/sys/fs/cgroup" && parts[1].StartsWith("cgroup2 ", StringComparison.Ordinal));

    /// <summary>The trait of the tests that need cgroup v2: CI runs them in a v2 guest with <c>-trait Category=CgroupV2</c>.</summary>
    public const string CgroupV2Trait = "CgroupV2";

    /// <summary>Skips unless <c>/sys/fs/cgroup</c> is cgroup v2 alone.</summary>
    public static void CgroupV2() =>
        Assert.SkipUnless(IsCgroupV2, "needs cgroup v2 (this host is v1 or hybrid; build/v2guest.sh runs this in a v2 guest, CI does)");

    /// <summary>Skips unless <paramref name="tool"/> is on PATH.</summary>
    public static string Tool(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Skip($"needs '{tool}' on PATH (the README's test command installs it)");
        return tool;
    }
}
