namespace Containers.Distribution;

/// <summary>
/// Finds the credentials for a registry. <see cref="DockerCredentials"/> reads Docker's
/// <c>~/.docker/config.json</c>; <see cref="StaticCredentials"/> takes them from code.
/// </summary>
/// <example>
/// <code>
/// var options = new RegistryClientOptions
/// {
///     Credentials = new StaticCredentials(new() { ["ghcr.io"] = new RegistryCredentials("me", token) }),
/// };
/// </code>
/// </example>
public interface IRegistryCredentialProvider
{
    /// <summary>The credentials for <paramref name="registry"/> (<c>host[:port]</c>, <c>docker.io</c>), or null for anonymous access.</summary>
    /// <param name="registry">The registry as it appears in image references.</param>
    /// <param name="cancellationToken">Cancels the lookup (a credential helper may run).</param>
    /// <returns>The credentials, or null.</returns>
    ValueTask<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken);
}
