using Containers.IntegrationTests.Runtime;
using Containers.Runtime;

namespace Containers.IntegrationTests.Cli;

/// <summary>
/// Runs alone: every other command-line test's <c>run</c> sweeps the same default state directory, and a sweep in
/// another process that is removing this test's leftover holds it until it is gone.
/// </summary>
[Collection(typeof(SerialRuntimeCollection))]
public sealed class LeftoverNameTests
{
    [Fact(Timeout = 60_000)]
    public async Task Run_takes_a_name_a_dead_hosts_leftover_holds_and_removes_the_leftover()
    {
        // run opens its runtime without the sweep (it sweeps while its container runs): a name only a leftover
        // holds is freed by sweeping first.
        var name = "cli-leftover-" + Guid.NewGuid().ToString("N")[..8];
        var root = StateDirectory.DefaultRoot();
        var states = new StateDirectory(root);
        states.Claim(ContainerApiTests.Leftover(name, root));

        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--host-rootfs", "--name", name, "--", "/bin/sh", "-c", "echo ran");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("ran\n", stdout);
        Assert.Null(states.TryRead(name));
        Assert.False(Directory.Exists(Path.Combine(root, name)));
    }
}
