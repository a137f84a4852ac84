using System.Globalization;

namespace Containers.Linux;

/// <summary>This process's capability bounding set: the most any process it starts can ever hold.</summary>
internal static class CapabilityBoundingSet
{
    /// <summary>The mask in <c>CapBnd</c> of <c>/proc/self/status</c> (bit n = capability n).</summary>
    public static ulong Read()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapBnd:", StringComparison.Ordinal))
            {
                return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("/proc/self/status has no CapBnd line: /proc is not a procfs");
    }
}
