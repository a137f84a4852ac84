using System.Diagnostics;
using System.Globalization;

namespace Containers.Benchmarks;

/// <summary>
/// <c>--interleaved ROUNDS</c>: runs <see cref="StartupBenchmarks"/>' methods in turns, one call of each per round,
/// and prints each one's median and lower quartile with their ratios to the baseline of its category. On a busy
/// machine BenchmarkDotNet measures one method after the other, so a change of load between them moves the ratios;
/// in turns every method sees the same load. With a batch of N, a turn makes N calls back to back and counts their
/// mean: what one call leaves to the kernel or a background thread (a cgroup's removal, a namespace's teardown) then
/// falls mostly on the same method's next call, as in BenchmarkDotNet's runs, rather than on the next method's.
/// </summary>
internal static class InterleavedStartup
{
    /// <summary>Calls of each method not counted, in as many rounds as the batch allows (at least one).</summary>
    private const int WarmupCalls = 400;

    public static async Task RunAsync(int rounds, string[]? only, int batch)
    {
        var benchmarks = new StartupBenchmarks();
        benchmarks.Setup();
        try
        {
            (string Name, Func<Task> Run, int Baseline)[] methods =
            [
                (nameof(StartupBenchmarks.ProcessStart), benchmarks.ProcessStart, 0),
                (nameof(StartupBenchmarks.ContainerStart), benchmarks.ContainerStart, 0),
                (nameof(StartupBenchmarks.ContainerStartHardened), benchmarks.ContainerStartHardened, 0),
                (nameof(StartupBenchmarks.ContainerStartWithLimits), benchmarks.ContainerStartWithLimits, 0),
                (nameof(StartupBenchmarks.RuntimeRun), benchmarks.RuntimeRun, 0),
                (nameof(StartupBenchmarks.PreparedRun), benchmarks.PreparedRun, 0),
                (nameof(StartupBenchmarks.PlanStart), benchmarks.PlanStart, 0),
                (nameof(StartupBenchmarks.ProcessStartConcurrent), benchmarks.ProcessStartConcurrent, 7),
                (nameof(StartupBenchmarks.RuntimeRunConcurrent), benchmarks.RuntimeRunConcurrent, 7),
            ];
            if (only?.FirstOrDefault(n => !methods.Any(m => m.Name == n)) is { } unknown)
            {
                throw new ArgumentException($"--interleaved: no method '{unknown}'; the methods are {string.Join(", ", methods.Select(m => m.Name))}");
            }

            // Methods named (all when none are), and the baselines of those.
            var named = methods.Select(m => only is null || only.Contains(m.Name)).ToArray();
            var runs = methods.Select((m, i) => named[i] || methods.Where((o, j) => named[j] && o.Baseline == i).Any()).ToArray();
            var times = methods.Select(_ => new List<double>()).ToArray();
            var workItems = new long[methods.Length];
            var cpu = new double[methods.Length];
            // Rounds not counted: the library's methods start as unoptimised code and are compiled again once called
            // 30 times (tiered compilation); Process.Start's are precompiled. Steady state, as BenchmarkDotNet's warm-up.
            for (var round = -Math.Max(1, WarmupCalls / batch); round < rounds; round++)
            {
                for (var i = 0; i < methods.Length; i++)
                {
                    if (!runs[i])
                    {
                        continue;
                    }

                    var items = ThreadPool.CompletedWorkItemCount;
                    var cpuBefore = CpuMilliseconds();
                    var watch = Stopwatch.StartNew();
                    for (var call = 0; call < batch; call++)
                    {
                        await methods[i].Run();
                    }

                    if (round >= 0)
                    {
                        times[i].Add(watch.Elapsed.TotalMicroseconds / batch);
                        workItems[i] += ThreadPool.CompletedWorkItemCount - items;
                        cpu[i] += CpuMilliseconds() - cpuBefore;
                    }
                }
            }

            // Pool work items per call: each is a wake-up of a pool thread, which a busy machine makes expensive.
            // CPU: this process's and its reaped children's user and system time, in clock ticks, so a mean over many
            // calls (the kernel's own threads, such as a network namespace's cleanup, are not in it). Unlike the
            // times it hardly moves with the load.
            Console.WriteLine($"{"Method",-24} {"Median µs",10} {"Q1 µs",10} {"Ratio (median)",15} {"Ratio (Q1)",11} {"Pool items",11} {"CPU ms",7} {"CPU ratio",9}");
            for (var i = 0; i < methods.Length; i++)
            {
                if (!runs[i])
                {
                    continue;
                }

                var baseline = times[methods[i].Baseline];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{methods[i].Name,-24} {Quantile(times[i], 0.5),10:F0} {Quantile(times[i], 0.25),10:F0} {Quantile(times[i], 0.5) / Quantile(baseline, 0.5),15:F2} {Quantile(times[i], 0.25) / Quantile(baseline, 0.25),11:F2} {(double)workItems[i] / rounds / batch,11:F1} {cpu[i] / rounds / batch,7:F2} {cpu[i] / cpu[methods[i].Baseline],9:F2}"));
            }
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }

    /// <summary>utime, stime, cutime and cstime of /proc/self/stat, in milliseconds (USER_HZ is 100 on Linux).</summary>
    private static double CpuMilliseconds()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)(sorted.Count * q)];
    }
}
