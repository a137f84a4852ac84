using BenchmarkDotNet.Running;
using Containers.Benchmarks;

if (args is ["--interleaved", var rounds, ..] && args.Length <= 4)
{
    // An optional third argument names the methods to run (comma-separated; "all" for every one); the baselines
    // always run. An optional fourth says how many calls of a method a turn makes back to back (default 1).
    var only = args.Length >= 3 && args[2] != "all" ? args[2].Split(',') : null;
    var batch = args.Length == 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1;
    await InterleavedStartup.RunAsync(int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), only, batch);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
