using BenchmarkDotNet.Running;
using Containers.Benchmarks;

if (args is ["--interleaved", var rounds])
{
    await InterleavedStartup.RunAsync(int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
