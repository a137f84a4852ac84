using System.Globalization;

namespace Containers.Linux;

/// <summary>Capability bounding sets: the most any process started from a thread can ever hold.</summary>
internal static class CapabilityBoundingSet
{
    /// <summary>This process's bounding set: the mask in <c>CapBnd</c> of <c>/proc/self/status</c> (bit n = capability n).</summary>
    public static ulong Read() => ReadCapBnd("/proc/self/status");

    /// <summary>
    /// The calling thread's bounding set (<c>/proc/thread-self/status</c>). The set is per thread: a thread that
    /// dropped part of it (a launch thread for a reduced set) differs from the process's first thread.
    /// </summary>
    public static ulong ReadThisThread() => ReadCapBnd("/proc/thread-self/status");

    /// <summary>The kernel's highest capability number, from <c>/proc/sys/kernel/cap_last_cap</c>.</summary>
    public static int ReadLastCapability() =>
        int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    // Read whole with open and read (no stream and its buffers): a run reads it once, on the launch thread.
    private static ulong ReadCapBnd(string status)
    {
        var text = LibC.TryReadText(status) ?? throw new FileNotFoundException($"{status} does not exist: /proc is not mounted", status);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("CapBnd:", StringComparison.Ordinal))
            {
                return ulong.Parse(line[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{status} has no CapBnd line: /proc is not a procfs");
    }
}
