using Containers.IntegrationTests.Images;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// A test class that talks to a real registry: each test gets its own <c>docker-registry</c> and temporary directory,
/// both removed after it.
/// </summary>
public abstract class RegistryTestBase : IAsyncLifetime
{
    private protected TempDirectory Temp { get; } = new();

    private protected RegistryServer Registry { get; private set; } = null!;

    private protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts the registry; a class that needs more set up first or after overrides this.</summary>
    public virtual async ValueTask InitializeAsync() => Registry = await StartRegistryAsync();

    public virtual async ValueTask DisposeAsync()
    {
        // Null when the class skipped (a missing tool) before its registry started.
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The registry each test talks to: a plain one unless the class needs TLS or auth.</summary>
    private protected virtual Task<RegistryServer> StartRegistryAsync() => RegistryServer.StartAsync();
}
