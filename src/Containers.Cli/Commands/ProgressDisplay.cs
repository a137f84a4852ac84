using Containers.Images;
using Spectre.Console;

namespace Containers.Cli.Commands;

/// <summary>
/// Shows <see cref="ImageProgress"/>: bars on an interactive terminal (Spectre.Console), otherwise one plain line on
/// stderr per item and phase so logs stay readable.
/// </summary>
internal static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(Func<IProgress<ImageProgress>, Task<T>> work)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var seen = new HashSet<(ImageProgressPhase, string)>();
            var plain = new SynchronousProgress(p =>
            {
                lock (seen)
                {
                    if (seen.Add((p.Phase, p.Item)))
                    {
                        Console.Error.WriteLine($"{p.Phase.ToString().ToLowerInvariant()} {p.Item}");
                    }
                }
            });
            return await work(plain).ConfigureAwait(false);
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<(ImageProgressPhase, string), ProgressTask>();
                var bars = new SynchronousProgress(p =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue((p.Phase, p.Item), out var task))
                        {
                            string item = p.Item.StartsWith("sha256:", StringComparison.Ordinal) ? p.Item[7..19] : p.Item;
                            task = context.AddTask($"{p.Phase.ToString().ToLowerInvariant()} {Markup.Escape(item)}", maxValue: Math.Max(p.Total, 1));
                            tasks[(p.Phase, p.Item)] = task;
                        }

                        task.MaxValue = Math.Max(p.Total, Math.Max(p.Completed, 1));
                        task.Value = p.Completed;
                    }
                });
                result = await work(bars).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result;
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<ImageProgress> report) : IProgress<ImageProgress>
    {
        public void Report(ImageProgress value) => report(value);
    }
}
