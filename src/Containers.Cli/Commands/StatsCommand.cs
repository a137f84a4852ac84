using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers stats [--no-stream] [CONTAINER...]</c>: a live table of each container's usage, as Docker's, with
/// the pressure stall information of cgroup v2 as a last column.
/// </summary>
internal static class StatsCommand
{
    public static CommandSpec Create() => new("stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics")
    {
        Options = [OptionSpec.Flag("no-stream", null, "Print one snapshot and exit")],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation stats, CancellationToken cancellationToken)
    {
        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var names = stats.Arguments.Count > 0
            ? [.. stats.Arguments]
            : (await runtime.ListAsync(cancellationToken).ConfigureAwait(false)).Where(c => c.Status.CanKill()).Select(c => c.Id).ToList();
        var containers = new List<Container>();
        try
        {
            foreach (var name in names)
            {
                containers.Add(await runtime.GetAsync(name, cancellationToken).ConfigureAwait(false));
            }

            var previous = new Dictionary<string, ContainerStats>(StringComparer.Ordinal);
            var streaming = !stats.Has("no-stream");
            if (!streaming)
            {
                // CPU % is a rate: two snapshots, as Docker's --no-stream takes.
                await SnapshotAsync(containers, previous, cancellationToken).ConfigureAwait(false);
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            do
            {
                var rows = await SnapshotAsync(containers, previous, cancellationToken).ConfigureAwait(false);
                if (streaming && !Console.IsOutputRedirected)
                {
                    Console.Write("\x1b[2J\x1b[H");
                }

                Console.WriteLine($"{"CONTAINER ID",-14}{"CPU %",-9}{"MEM USAGE / LIMIT",-24}{"MEM %",-9}{"BLOCK I/O",-22}{"PIDS",-7}PRESSURE CPU/MEM/IO");
                foreach (var row in rows)
                {
                    Console.WriteLine(row);
                }

                if (streaming)
                {
                    await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                }
            }
            while (streaming);
        }
        finally
        {
            foreach (var container in containers)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }
        }

        return 0;
    }

    private static async Task<List<string>> SnapshotAsync(List<Container> containers, Dictionary<string, ContainerStats> previous, CancellationToken cancellationToken)
    {
        var rows = new List<string>();
        foreach (var container in containers)
        {
            if (!container.Status.CanKill())
            {
                continue;
            }

            var now = await container.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            var cpu = previous.TryGetValue(container.Id, out var before) && now.Time > before.Time
                ? (now.Cpu.Total - before.Cpu.Total) / (now.Time - before.Time) * 100
                : 0;
            previous[container.Id] = now;
            var memory = now.Memory.Usage ?? 0;
            var limit = now.Memory.Limit;
            var memPercent = limit is > 0 ? memory * 100.0 / limit.Value : 0;
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"{container.Id,-14}{cpu,-9:F2}{$"{Size(memory)} / {(limit is null ? "unlimited" : Size(limit.Value))}",-24}{memPercent,-9:F2}{$"{Size(now.Io.ReadBytes)} / {Size(now.Io.WriteBytes)}",-22}{now.Pids.Current,-7}{Pressure(now.Pressure)}"));
        }

        return rows;
    }

    /// <summary>
    /// The share of the last 10 s in which some task of the container stalled for CPU, memory and I/O (PSI's
    /// <c>some avg10</c>, in %); <c>-</c> where the kernel keeps none (cgroup v1, or PSI off).
    /// </summary>
    private static string Pressure(ContainerPressureStats? pressure) => pressure is null ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{Avg(pressure.Cpu)}/{Avg(pressure.Memory)}/{Avg(pressure.Io)}");

    private static string Avg(ContainerPressure? pressure) =>
        pressure is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{pressure.Some.Avg10:F2}%");

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2}GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F2}MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F2}KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes}B"),
    };
}
