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

    private static string Count(long n, string units) => n.ToString(CultureInfo.InvariantCulture) + " " + units;
}
