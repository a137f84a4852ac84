using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime;

/// <summary>A runtime with a state directory of its own, removed afterwards, so tests never see each other's containers.</summary>
internal sealed class RuntimeFixture : IDisposable
{
    public RuntimeFixture()
    {
        StateDirectory = Directory.CreateTempSubdirectory("containers-state-").FullName;

        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers need Linux");
        }

        // As the runtime's own default directory is: a container's root in a user namespace must pass through it.
        File.SetUnixFileMode(StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        // OpenAsync completes synchronously (no awaited I/O): a constructor may wait for it.
        Runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = StateDirectory }).GetAwaiter().GetResult();
    }

    public string StateDirectory { get; }

    public ContainerRuntime Runtime { get; }

    /// <summary>Disposes the runtime (its containers, its pool of network namespaces), then removes the state.</summary>
    public void Dispose()
    {
        Runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(StateDirectory, recursive: true);
    }
}
