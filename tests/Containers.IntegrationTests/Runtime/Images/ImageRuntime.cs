using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Microsoft.Extensions.Logging;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// An image store and a runtime that makes containers from it, in a test's temporary directory: <c>store/</c>,
/// <c>state/</c> and <c>containers/</c> (the containers' own directories).
/// </summary>
internal sealed class ImageRuntime : IAsyncDisposable
{
    private ImageRuntime(ImageStore store, ContainerRuntime runtime, string stateDirectory)
    {
        Store = store;
        Runtime = runtime;
        StateDirectory = stateDirectory;
    }

    public ImageStore Store { get; }

    public ContainerRuntime Runtime { get; }

    public string StateDirectory { get; }

    public static async Task<ImageRuntime> OpenAsync(TempDirectory temp, CancellationToken cancellationToken, ILoggerFactory? loggers = null)
    {
        var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = temp.Combine("store") }, cancellationToken);
        var state = temp.Combine("state");
        Directory.CreateDirectory(state);
        var runtime = await ContainerRuntime.OpenAsync(
            new ContainerRuntimeOptions { StateDirectory = state, StorageDirectory = temp.Combine("containers"), Images = store, LoggerFactory = loggers }, cancellationToken);
        return new ImageRuntime(store, runtime, state);
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        await Store.DisposeAsync();

        // A rootless store keeps a layer's mode 000 directories as they are and gives files other owners under
        // subordinate ids: it is removed as the library removes its own.
        var errno = Containers.Linux.ForeignOwners.Remove(Store.Root);
        if (errno != 0 && errno != Containers.Linux.Errno.ENOENT)
        {
            throw new IOException($"removing the store {Store.Root} failed: {Containers.Linux.Errno.Name(errno)}");
        }
    }
}
