using System.Net;

namespace Containers.Distribution;

/// <summary>
/// The registry (or its token service) rejected the credentials, or needs credentials that were not given. Log in
/// (<c>containers login REGISTRY</c>) or pass credentials through <see cref="RegistryClientOptions.Credentials"/>.
/// </summary>
public sealed class RegistryAuthenticationException : RegistryException
{
    /// <summary>Creates an error for a response with <paramref name="statusCode"/> and the registry's error entries.</summary>
    public RegistryAuthenticationException(string message, HttpStatusCode? statusCode, IReadOnlyList<RegistryError> errors)
        : base(message, statusCode, errors)
    {
    }
}
