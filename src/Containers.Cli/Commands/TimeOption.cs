using System.Globalization;
using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>A point in time on the command line, as Docker's <c>--since</c> and <c>--until</c> take it.</summary>
internal static class TimeOption
{
    /// <summary>The help text's description of the forms <see cref="Parse"/> takes.</summary>
    public const string Forms = "a time (RFC 3339), Unix seconds, or a duration back (10s, 5m, 2h)";

    /// <summary>
    /// An RFC 3339 time (<c>2024-05-01T10:00:00Z</c>; UTC when it names no offset), Unix seconds
    /// (<c>1714557600</c>, a fraction allowed), or a duration back from now (<c>10s</c>, <c>5m</c>, <c>2h</c>).
    /// </summary>
    /// <exception cref="UsageException">The text is none of these.</exception>
    public static DateTimeOffset Parse(string text, string option, string path)
    {
        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds < 1e11m)
        {
            return DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        var unit = text.Length > 0 ? text[^1] : ' ';
        if (long.TryParse(text.AsSpan(0, Math.Max(0, text.Length - 1)), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? back = unit switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                _ => null,
            };
            if (back is { } span)
            {
                return DateTimeOffset.UtcNow - span;
            }
        }

        throw new UsageException($"--{option} '{text}': use a time (2024-05-01T10:00:00Z), Unix seconds (1714557600) or a duration back (10s, 5m, 2h)", path);
    }
}
