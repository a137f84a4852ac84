using System.Diagnostics;
using System.Globalization;
using Containers.Runtime;
using Containers.Spec;

// One line: microseconds of the first RunAsync (runtime construction included, as a host does it), then of a second
// one in the same process (the JIT's work done), then the process's age when the first call started (startup).
// The exit status is the container's; anything else is an error. Runs as root or as a user with subordinate ids.
var startup = DateTime.Now - Process.GetCurrentProcess().StartTime;
var state = Directory.CreateTempSubdirectory("containers-firstcall-");
try
{
    var clock = Stopwatch.StartNew();
    await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = state.FullName });
    var first = await runtime.RunAsync(ContainerSpec.For("/bin/true"));
    var firstCall = clock.Elapsed;

    clock.Restart();
    var second = await runtime.RunAsync(ContainerSpec.For("/bin/true"));
    var secondCall = clock.Elapsed;

    if (first.ExitCode != 0 || second.ExitCode != 0)
    {
        Console.Error.WriteLine($"/bin/true in a container exited {first.ExitCode}/{second.ExitCode}: {first.Stderr}");
        return 1;
    }

    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{firstCall.TotalMicroseconds:F0} {secondCall.TotalMicroseconds:F0} {startup.TotalMicroseconds:F0}"));
    return 0;
}
finally
{
    state.Delete(recursive: true);
}
