using System.Globalization;
using Containers.Distribution;
using Spectre.Console;

namespace Containers.Cli.Commands;

/// <summary>
/// Shows <see cref="TransferProgress"/> of a pull or push: a bar per blob and phase on an interactive terminal
/// (Spectre.Console), otherwise one plain line on stderr per blob and phase, and a total at the end.
/// </summary>
internal static class TransferProgressDisplay
{
    public static async Task<T> RunAsync<T>(bool quiet, Func<IProgress<TransferProgress>?, Task<T>> work)
    {
        if (quiet)
        {
            return await work(null).ConfigureAwait(false);
        }

        if (Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var seen = new HashSet<(TransferPhase, string)>();
            long transferred = 0;
            var plain = new LockedProgress(p =>
            {
                transferred = p.TransferredBytes;
                if (seen.Add((p.Phase, p.Item)))
                {
                    Console.Error.WriteLine($"{Describe(p.Phase)} {p.Item} ({Size(p.Total)})");
                }
            });
            var result = await work(plain).ConfigureAwait(false);
            Console.Error.WriteLine($"transferred {Size(transferred)}");
            return result;
        }

        T output = default!;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<(TransferPhase, string), ProgressTask>();
                var bars = new LockedProgress(p =>
                {
                    if (!tasks.TryGetValue((p.Phase, p.Item), out var task))
                    {
                        string item = p.Item.StartsWith("sha256:", StringComparison.Ordinal) ? p.Item[7..19] : p.Item;
                        task = context.AddTask($"{Describe(p.Phase)} {Markup.Escape(item)}", maxValue: Math.Max(p.Total, 1));
                        tasks[(p.Phase, p.Item)] = task;
                    }

                    task.MaxValue = Math.Max(p.Total, Math.Max(p.Completed, 1));
                    task.Value = p.Completed;
                });
                output = await work(bars).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return output;
    }

    private static string Describe(TransferPhase phase) => phase switch
    {
        TransferPhase.Downloading => "downloading",
        TransferPhase.Applying => "unpacking",
        TransferPhase.Uploading => "uploading",
        _ => "exists",
    };

    private static string Size(long bytes) => bytes >= 1 << 20
        ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";

    /// <summary>Reports arrive from several threads; this serialises them on a lock.</summary>
    private sealed class LockedProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        private readonly Lock _lock = new();

        public void Report(TransferProgress value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
