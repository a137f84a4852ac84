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

    /// <summary>The state directory a helper's runtime opens.</summary>
    public const string StateVariable = "CONTAINERS_TEST_HELPER_STATE";

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
            "create-limited-and-hang" => CreateLimitedAndHang(),
            "stop-one-start-one-and-hang" => StopOneStartOneAndHang(),
            _ => 2,
        };
        Environment.Exit(code);
    }

    /// <summary>Starts the test executable in helper <paramref name="mode"/>, optionally under a wrapper command.</summary>
    public static Process Start(string mode, params string[] wrapper) => Start(mode, null, wrapper);

    /// <summary>Starts a helper with <see cref="StateVariable"/> set to <paramref name="stateDirectory"/>.</summary>
    public static Process Start(string mode, string? stateDirectory, params string[] wrapper)
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
        if (stateDirectory is not null)
        {
            start.Environment[StateVariable] = stateDirectory;
        }

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

    /// <summary>
    /// Runs container <c>stopped</c> to its end (its die recorded, its state kept) and starts container <c>running</c>,
    /// prints the latter's pid and hangs.
    /// </summary>
    private static int StopOneStartOneAndHang()
    {
        var runtime = Containers.Runtime.ContainerRuntime.OpenAsync(new Containers.Runtime.ContainerRuntimeOptions
        {
            StateDirectory = Environment.GetEnvironmentVariable(StateVariable),
        }).GetAwaiter().GetResult();
        var stopped = runtime.CreateAsync("stopped", Containers.Spec.ContainerSpec.For("/bin/true"), null).GetAwaiter().GetResult();
        stopped.StartAsync().GetAwaiter().GetResult();
        stopped.WaitAsync().GetAwaiter().GetResult();
        var running = runtime.CreateAsync("running", Containers.Spec.ContainerSpec.For("/bin/sleep", "1000"), null).GetAwaiter().GetResult();
        running.StartAsync().GetAwaiter().GetResult();
        Console.Out.WriteLine(running.Pid);
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Creates a running container with limits, prints its cgroup directories (one a line, then an empty line) and hangs.</summary>
    private static int CreateLimitedAndHang()
    {
        var runtime = Containers.Runtime.ContainerRuntime.OpenAsync(new Containers.Runtime.ContainerRuntimeOptions
        {
            StateDirectory = Environment.GetEnvironmentVariable(StateVariable),
        }).GetAwaiter().GetResult();
        var spec = Containers.Spec.ContainerSpec.For("/bin/sleep", "1000").WithMemoryLimit(64L << 20).WithPidsLimit(8);

        // Three containers: the second starts the runtime's pool, the third is surely in a cgroup it made ahead.
        var prepared = runtime.Prepare(spec);
        var first = prepared.CreateAsync(null).GetAwaiter().GetResult();
        var second = prepared.CreateAsync(null).GetAwaiter().GetResult();
        while (runtime.CgroupPoolOrNull is not { Count: >= 2 })
        {
            Thread.Sleep(20);
        }

        var third = prepared.CreateAsync(null).GetAwaiter().GetResult();
        foreach (var container in new[] { first, second, third })
        {
            container.StartAsync().GetAwaiter().GetResult();
            foreach (var dir in container.State.Cgroup!.Values)
            {
                Console.Out.WriteLine(dir);
            }
        }

        Console.Out.WriteLine();
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
