using System.Diagnostics;
using System.Runtime.Versioning;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>
/// Every container's exit status reaches its own <c>WaitAsync</c>, however many end at once and whatever else this
/// process reaps. <see cref="Pid1HostTests"/> runs this class again with the test host as pid 1 of a pid namespace,
/// where the .NET runtime reaps every child.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ExitStatusTests
{
    /// <summary>Set by <see cref="Pid1HostTests"/>: the run must really be pid 1, or it proves nothing.</summary>
    public const string ExpectPid1Variable = "CONTAINERS_TEST_EXPECT_PID1";

    private static readonly int[] Signals = [1, 9, 10, 12, 14, 15];

    [Fact(Timeout = 240_000)]
    public async Task Two_hundred_concurrent_containers_each_get_their_own_exit_code_or_signal()
    {
        if (Environment.GetEnvironmentVariable(ExpectPid1Variable) == "1")
        {
            Assert.Equal(1, Environment.ProcessId);
        }

        // An ordinary child first: from then on the .NET runtime handles SIGCHLD (and, as pid 1, reaps every child).
        using (var ordinary = Process.Start("/bin/true"))
        {
            await ordinary.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        using var fixture = new RuntimeFixture();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var cases = Enumerable.Range(0, 200).Select(_ => Case.Random(random)).ToArray();

        var results = await Task.WhenAll(cases.Select(c => RunAsync(fixture.Runtime, c)));

        var wrong = cases.Zip(results).Where(p => p.First.Expected != p.Second).Select(p => $"{p.First}: got {p.Second}").ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} of 200 statuses wrong (seed {seed}):\n{string.Join('\n', wrong)}");
    }

    private static async Task<ContainerExit> RunAsync(ContainerRuntime runtime, Case c)
    {
        if (!c.Init)
        {
            return (await runtime.RunAsync(c.Spec, TestContext.Current.CancellationToken)).Exit;
        }

        var container = await runtime.CreateAsync(null, c.Spec, new ContainerCreateOptions { Init = true }, TestContext.Current.CancellationToken);
        await using (container)
        {
            await container.StartAsync(TestContext.Current.CancellationToken);
            return await container.WaitAsync(TestContext.Current.CancellationToken);
        }
    }

    private sealed record Case(bool Init, int? Code, int? Signal)
    {
        public ContainerSpec Spec
        {
            get
            {
                if (Code is { } code)
                {
                    return ContainerSpec.For("/bin/sh", "-c", $"exit {code}");
                }

                // Without an init, the shell is pid 1 of a new pid namespace, which ignores a signal it has no handler
                // for: give it none of its own. With an init it is the init's child, and the init reports 128 + signal.
                var spec = ContainerSpec.For("/bin/sh", "-c", $"kill -{Signal} $$; sleep 5");
                return Init ? spec : spec.WithoutNamespace(NamespaceType.Pid);
            }
        }

        public ContainerExit Expected => Code is { } code
            ? new ContainerExit(code, null)
            : Init ? new ContainerExit(128 + Signal, null) : new ContainerExit(null, Signal);

        public static Case Random(Random random) => random.Next(2) == 0
            ? new Case(random.Next(4) == 0, random.Next(256), null)
            : new Case(random.Next(4) == 0, null, Signals[random.Next(Signals.Length)]);

        public override string ToString() => $"{(Init ? "init, " : "")}{(Code is { } code ? $"exit {code}" : $"kill -{Signal}")}";
    }
}
