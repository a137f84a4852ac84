using Containers.Cli.CommandLine;
using Containers.Images;
using Spectre.Console;

namespace Containers.Cli.Commands;

/// <summary>One step of long work as the display shows it: a bar per (phase, item).</summary>
/// <param name="Phase">What is done, in words ("importing", "downloading").</param>
/// <param name="Item">What it is done to (a digest, a name); a digest is shortened on a bar.</param>
/// <param name="Completed">Units done so far.</param>
/// <param name="Total">Units in all.</param>
/// <param name="Detail">Added to the plain line, or null.</param>
internal readonly record struct ProgressStep(string Phase, string Item, long Completed, long Total, string? Detail = null);

/// <summary>
/// Shows progress reports of any kind (<see cref="ImageProgress"/> here, <see cref="TransferProgressDisplay"/>'s
/// transfers): bars on an interactive terminal (Spectre.Console), otherwise one plain line on stderr per item and
/// phase so logs stay readable.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Whether reports become plain lines: stdout or stderr redirected, or a terminal without cursor control.</summary>
    public static bool Plain => Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Import, export and commit of images; with <paramref name="quiet"/> (<c>-q</c>) nothing is shown.</summary>
    public static Task<T> RunAsync<T>(bool quiet, Func<IProgress<ImageProgress>?, Task<T>> work) =>
        quiet ? work(null) : RunAsync(work, p => new ProgressStep(p.Phase.ToString().ToLowerInvariant(), p.Item, p.Completed, p.Total), transferSpeed: false);

    /// <summary>The option that silences the progress of import, export and commit.</summary>
    public static OptionSpec QuietOption => OptionSpec.Flag("quiet", 'q', "Show no progress");

    /// <summary>Runs <paramref name="work"/> with a progress sink that shows each report as <paramref name="step"/> describes it.</summary>
    public static async Task<T> RunAsync<TReport, T>(Func<IProgress<TReport>, Task<T>> work, Func<TReport, ProgressStep> step, bool transferSpeed)
    {
        if (Plain)
        {
            var seen = new HashSet<(string, string)>();
            return await work(new LockedProgress<TReport>(report =>
            {
                var s = step(report);
                if (seen.Add((s.Phase, s.Item)))
                {
                    Console.Error.WriteLine(s.Detail is null ? $"{s.Phase} {s.Item}" : $"{s.Phase} {s.Item} {s.Detail}");
                }
            })).ConfigureAwait(false);
        }

        T result = default!;
        var columns = new List<ProgressColumn> { new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn() };
        if (transferSpeed)
        {
            columns.Add(new TransferSpeedColumn());
        }

        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns([.. columns])
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<(string, string), ProgressTask>();
                result = await work(new LockedProgress<TReport>(report =>
                {
                    var s = step(report);
                    if (!tasks.TryGetValue((s.Phase, s.Item), out var task))
                    {
                        var item = s.Item.StartsWith("sha256:", StringComparison.Ordinal) ? s.Item[7..19] : s.Item;
                        task = context.AddTask($"{s.Phase} {Markup.Escape(item)}", maxValue: Math.Max(s.Total, 1));
                        tasks[(s.Phase, s.Item)] = task;
                    }

                    task.MaxValue = Math.Max(s.Total, Math.Max(s.Completed, 1));
                    task.Value = s.Completed;
                })).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order), one at a time:
    /// parallel transfers report from several threads.
    /// </summary>
    private sealed class LockedProgress<TReport>(Action<TReport> report) : IProgress<TReport>
    {
        private readonly Lock _lock = new();

        public void Report(TReport value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
