using System.Diagnostics;
using System.Runtime.Versioning;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// A .NET app is often pid 1 of its own container, where the runtime reaps every child and a container's exit status
/// could be taken before the library's pidfd wait sees it. This reruns runtime test classes with this test executable
/// as pid 1 of a new pid namespace (<c>unshare --pid --fork --mount-proc</c>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class Pid1HostTests
{
    private static readonly string[] Classes =
    [
        typeof(ExitStatusTests).FullName!,
        typeof(InitTests).FullName!,
        typeof(ContainersInitTests).FullName!,
        typeof(LifecycleTests).FullName!,
        typeof(ExecAndTerminalTests).FullName!,
    ];

    [Fact(Timeout = 600_000)]
    public async Task Runtime_tests_pass_with_the_host_as_pid_1_of_its_pid_namespace()
    {
        Requires.Root();
        var unshare = Requires.Tool("unshare");

        var start = new ProcessStartInfo(unshare)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { "--pid", "--fork", "--mount-proc", Path.Combine(AppContext.BaseDirectory, "Containers.IntegrationTests"), "-noColor" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in Classes)
        {
            start.ArgumentList.Add("-class");
            start.ArgumentList.Add(name);
        }

        start.Environment[ExitStatusTests.ExpectPid1Variable] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, $"the pid 1 run failed ({process.ExitCode}):\n{output}");
        Assert.Matches(@"Total: [1-9]\d*, Errors: 0, Failed: 0, Skipped: 0", output);
    }
}
