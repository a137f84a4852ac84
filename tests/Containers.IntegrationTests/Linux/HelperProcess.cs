using System.Diagnostics;
using System.Runtime.CompilerServices;
using Containers.Linux;

namespace Containers.IntegrationTests.Linux;

/// <summary>
/// The test executable doubles as a helper process: with <see cref="ModeVariable"/> set it runs one scenario
/// before xunit starts and exits. Tests use it for what needs a separate launcher process (being SIGKILLed).
/// </summary>
internal static class HelperProcess
{
    public const string ModeVariable = "CONTAINERS_TEST_HELPER";

#pragma warning disable CA2255 // The helper must take over before the test runner's entry point.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RunIfRequested()
    {
        var mode = Environment.GetEnvironmentVariable(ModeVariable);
        if (mode is null)
        {
            return;
        }

        Environment.SetEnvironmentVariable(ModeVariable, null);
        var code = mode switch
        {
            "launch-and-hang" => LaunchAndHang(),
            _ => 2,
        };
        Environment.Exit(code);
    }

    /// <summary>Starts the test executable in helper <paramref name="mode"/>, optionally under a wrapper command.</summary>
    public static Process Start(string mode, params string[] wrapper)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "Containers.IntegrationTests");
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in wrapper.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        if (wrapper.Length > 0)
        {
            start.ArgumentList.Add(exe);
        }

        start.Environment[ModeVariable] = mode;
        return Process.Start(start)!;
    }

    // Helpers run inside this module's initializer: code of this module on other threads would wait for it to end,
    // so the scenarios stay synchronous and only await library tasks.
    private static int LaunchAndHang()
    {
        var plan = new PlanBuilder().Exec("/bin/sleep", ["sleep", "1000"], PlanFixtures.Env).Build();
        var child = ChildProcess.Launch(plan);
        child.WaitForExecAsync(CancellationToken.None).GetAwaiter().GetResult();
        Console.Out.WriteLine(child.Pid);
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
