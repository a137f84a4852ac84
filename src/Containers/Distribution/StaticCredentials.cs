namespace Containers.Distribution;

/// <summary>Credentials given in code, per registry (<c>host[:port]</c> as in image references, <c>docker.io</c> for Docker Hub).</summary>
/// <param name="credentials">The credentials per registry.</param>
public sealed class StaticCredentials(IReadOnlyDictionary<string, RegistryCredentials> credentials) : IRegistryCredentialProvider
{
    /// <inheritdoc />
    public ValueTask<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken) =>
        ValueTask.FromResult(credentials.TryGetValue(registry, out var found) ? found : null);
}
