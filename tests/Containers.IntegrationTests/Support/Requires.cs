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
