using BenchmarkDotNet.Running;
using Containers.Benchmarks;

if (args is ["--interleaved", var rounds, ..] && args.Length <= 3)
{
    // An optional third argument names the methods to run (comma-separated); the baselines always run.
    await InterleavedStartup.RunAsync(int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), args.Length == 3 ? args[2].Split(',') : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
