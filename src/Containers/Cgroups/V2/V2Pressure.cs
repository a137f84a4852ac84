using System.Globalization;
using Containers.Runtime;

namespace Containers.Cgroups.V2;

/// <summary>
/// Pressure stall information, cgroup v2's <c>*.pressure</c> files: lines
/// <c>some avg10=0.00 avg60=0.00 avg300=0.00 total=0</c> and <c>full ...</c> (total in microseconds).
/// </summary>
internal static class V2Pressure
{
    /// <summary>The container's CPU, memory and I/O pressure; null when the kernel keeps none of them.</summary>
    public static ContainerPressureStats? Read(CgroupFiles files, string dir)
    {
        var (cpu, memory, io) = (ReadFile(files, dir, "cpu.pressure"), ReadFile(files, dir, "memory.pressure"), ReadFile(files, dir, "io.pressure"));
        return cpu is null && memory is null && io is null ? null : new(cpu, memory, io);
    }

    /// <summary>One pressure file; null when it is missing or PSI is off (6.1 then fails the read with EOPNOTSUPP).</summary>
    public static ContainerPressure? ReadFile(CgroupFiles files, string dir, string file)
    {
        string? text;
        try
        {
            text = files.TryRead(dir, file);
        }
        catch (IOException)
        {
            return null;
        }

        return text is null ? null : Parse(text);
    }

    /// <summary>Parses a pressure file's text; null when it has no <c>some</c> line.</summary>
    public static ContainerPressure? Parse(string text)
    {
        ContainerPressureLine? some = null, full = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || ParseLine(words) is not { } parsed)
            {
                continue;
            }

            if (words[0] == "some")
            {
                some = parsed;
            }
            else if (words[0] == "full")
            {
                full = parsed;
            }
        }

        return some is null ? null : new ContainerPressure(some, full);
    }

    private static ContainerPressureLine? ParseLine(string[] words)
    {
        double? avg10 = null, avg60 = null, avg300 = null;
        long? total = null;
        foreach (var word in words.AsSpan(1))
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            var value = word.AsSpan(equals + 1);
            switch (word[..equals])
            {
                case "avg10": avg10 = Percent(value); break;
                case "avg60": avg60 = Percent(value); break;
                case "avg300": avg300 = Percent(value); break;
                case "total": total = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var us) ? us : null; break;
            }
        }

        return avg10 is { } a && avg60 is { } b && avg300 is { } c && total is { } t
            ? new ContainerPressureLine(a, b, c, TimeSpan.FromTicks(t * 10))
            : null;
    }

    private static double? Percent(ReadOnlySpan<char> text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ? value : null;
}
