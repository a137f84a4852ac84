using System.Globalization;

namespace Containers.Cli;

/// <summary>Durations and ages in Docker's words ("5 seconds", "About a minute", "3 weeks").</summary>
internal static class HumanTime
{
    /// <summary>A duration as Docker prints it in "Up 5 seconds" or "2 hours ago".</summary>
    public static string Duration(TimeSpan span)
    {
        var seconds = (long)span.TotalSeconds;
        return seconds switch
        {
            < 1 => "Less than a second",
            1 => "1 second",
            < 60 => Count(seconds, "seconds"),
            < 120 => "About a minute",
            < 3600 => Count(seconds / 60, "minutes"),
            < 7200 => "About an hour",
            < 48 * 3600 => Count(seconds / 3600, "hours"),
            < 14 * 86400 => Count(seconds / 86400, "days"),
            < 90 * 86400 => Count(seconds / (7 * 86400), "weeks"),
            < 730 * 86400 => Count(seconds / (30 * 86400), "months"),
            _ => Count(seconds / (365 * 86400), "years"),
        };
    }

    /// <summary>How long ago <paramref name="time"/> was ("5 seconds ago").</summary>
    public static string Ago(DateTimeOffset time, DateTimeOffset now) => Duration(now - time) + " ago";

    /// <summary>
    /// A time as Go's <c>time.Time.String()</c> prints it, which Docker's <c>CreatedAt</c> is: whole seconds, layout
    /// <c>2006-01-02 15:04:05 -0700 MST</c>. Always in UTC: .NET has no portable abbreviation for a local zone, and a
    /// made-up one would parse as a different zone.
    /// </summary>
    public static string GoTime(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss' +0000 UTC'", CultureInfo.InvariantCulture);

    /// <summary>
    /// A size in decimal units with three significant digits, as Docker prints sizes (<c>4.26MB</c>, <c>123kB</c>,
    /// <c>1.5GB</c>, <c>0B</c>).
    /// </summary>
    public static string Size(long bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        double size = bytes;
        var unit = 0;
        while (size >= 1000 && unit < units.Length - 1)
        {
            size /= 1000;
            unit++;
        }

        // Where three digits round up to 1000 (999.9kB), say 1 of the next unit rather than Go's "1e+03kB".
        if (Math.Round(size, 3 - Digits(size)) >= 1000 && unit < units.Length - 1)
        {
            size /= 1000;
            unit++;
        }

        return size.ToString("G3", CultureInfo.InvariantCulture) + units[unit];
    }

    private static int Digits(double value) => value < 10 ? 1 : value < 100 ? 2 : 3;

    private static string Count(long n, string units) => n.ToString(CultureInfo.InvariantCulture) + " " + units;
}
