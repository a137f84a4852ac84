using Containers.Cgroups;
using Containers.Runtime;

[assembly: AssemblyFixture(typeof(Containers.IntegrationTests.Support.LeftoverCgroupParents))]

namespace Containers.IntegrationTests.Support;

/// <summary>
/// Leaves no cgroup parent of the suite behind. The command-line tests run <c>containers</c> on the default state
/// directory, and a command never disposes its runtime: the parent its containers' cgroups went in stays until an
/// open finds it empty and older than a minute, which the suite's last commands' parent is not when it ends. After the
/// last test, as root (the only user whose commands made cgroups), one runtime opened on that directory and disposed
/// removes it when empty. The tests' own state directories' parents go with their runtimes (<c>RuntimeFixture</c>).
/// Not in the suite's run as pid 1 of a pid namespace of its own (<c>Pid1HostTests</c>): that open would sweep the
/// default state directory from a namespace where no other process's pid is seen, and so remove the entries of live
/// containers the outer run's command-line tests own at that moment (an owner and a process it cannot see look dead).
/// </summary>
public sealed class LeftoverCgroupParents : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        if (!Requires.IsRoot || CgroupDriver.DetectLayout() is null
            || (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(Runtime.ExitStatusTests.ExpectPid1Variable) == "1"))
        {
            return;
        }

        await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { CgroupPoolSize = 0 });
    }
}
