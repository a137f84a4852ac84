using System.Globalization;

namespace Containers.Spec;

/// <summary>
/// The keys of <c>linux.resources.unified</c> (cgroup v2 file names and the values to write to them) this runtime
/// writes: only <c>memory.high</c>, the one v2 limit OCI has no typed field for. Any other key is refused by name:
/// a spec may come from an untrusted source, and writing whatever file it names into a cgroup the runtime manages
/// would hand it every knob of the kernel's cgroup interface, including ones that undo the runtime's own limits.
/// </summary>
internal static class UnifiedResources
{
    /// <summary>The memory usage throttle limit: past it the kernel reclaims and slows the cgroup's allocations, but never OOM-kills.</summary>
    public const string MemoryHigh = "memory.high";

    /// <summary>The keys written, as an error lists them.</summary>
    public const string Supported = MemoryHigh;

    /// <summary>The JSON path of a key, as errors name it: <c>linux.resources.unified["memory.high"]</c>.</summary>
    public static string PathOf(string key) => $"linux.resources.unified[\"{key}\"]";

    /// <summary>The <c>memory.high</c> <paramref name="resources"/> ask for in bytes (-1 for <c>max</c>), or null when they set none.</summary>
    /// <exception cref="InvalidSpecException">The value is malformed (a spec that passed validation never has one).</exception>
    public static long? MemoryHighOf(LinuxResources resources) =>
        !resources.Unified.TryGetValue(MemoryHigh, out var text) ? null
        : TryParseBytes(text, out var bytes) ? bytes
        : throw new InvalidSpecException([new SpecError(PathOf(MemoryHigh), $"must be a number of bytes or 'max', got '{text}'")]);

    /// <summary>
    /// Reads a value as this runtime takes bytes: decimal digits only, or <c>max</c> (-1). The kernel would also take
    /// suffixes (<c>64M</c>) and, reading with base 0, octal and hex; they are refused so that a value means one thing.
    /// </summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        if (text == "max")
        {
            bytes = -1;
            return true;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }

    /// <summary>The value to write for <paramref name="bytes"/> (-1 is <c>max</c>), in decimal: the kernel reads a leading 0 as octal.</summary>
    public static string Format(long bytes) => bytes == -1 ? "max" : bytes.ToString(CultureInfo.InvariantCulture);
}
