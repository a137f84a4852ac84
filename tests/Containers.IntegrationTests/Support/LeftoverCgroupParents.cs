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
/// </summary>
public sealed class LeftoverCgroupParents : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        if (!Requires.IsRoot || CgroupDriver.DetectLayout() is null)
        {
            return;
        }

        await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { CgroupPoolSize = 0 });
    }
}
