using System.CommandLine;
using System.Globalization;

namespace Containers.Cli.Commands;

/// <summary><c>containers images</c>: a table of the store's images, one row per name.</summary>
internal static class ImagesCommand
{
    public static Command Create()
    {
        var root = ImageStoreOption.Create();
        var command = new Command("images", "List images: reference, digest, created, size") { root };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var rows = new List<string[]> { new[] { "REFERENCE", "DIGEST", "CREATED", "SIZE" } };
            foreach (var image in await store.ListAsync(ct).ConfigureAwait(false))
            {
                var names = image.References.Count == 0 ? ["<none>"] : image.References.Select(r => r.FamiliarName);
                foreach (var name in names)
                {
                    rows.Add([name, image.Digest.Hex[..12], Ago(image.Config.Created), Size(image.Size)]);
                }
            }

            int[] widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var row in rows)
            {
                Console.WriteLine(string.Join("   ", row.Select((cell, c) => c == 3 ? cell : cell.PadRight(widths[c]))).TrimEnd());
            }

            return 0;
        });
        return command;
    }

    internal static string Ago(DateTimeOffset? created)
    {
        if (created is not { } when)
        {
            return "unknown";
        }

        var age = DateTimeOffset.UtcNow - when;
        return age.TotalSeconds < 60 ? "less than a minute ago"
            : age.TotalMinutes < 60 ? Plural((int)age.TotalMinutes, "minute")
            : age.TotalHours < 48 ? Plural((int)age.TotalHours, "hour")
            : age.TotalDays < 14 ? Plural((int)age.TotalDays, "day")
            : age.TotalDays < 60 ? Plural((int)(age.TotalDays / 7), "week")
            : age.TotalDays < 730 ? Plural((int)(age.TotalDays / 30), "month")
            : Plural((int)(age.TotalDays / 365), "year");
    }

    internal static string Size(long bytes) =>
        bytes < 1000 ? $"{bytes}B"
        : bytes < 1000 * 1000 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1000.0:0.#}kB")
        : bytes < 1000L * 1000 * 1000 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.#}MB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.##}GB");

    private static string Plural(int n, string unit) => $"{n} {unit}{(n == 1 ? string.Empty : "s")} ago";
}
