using System.Net;

namespace Containers.Distribution;

/// <summary>
/// A registry refused or failed a request, or answered with something this client does not accept. Carries the HTTP
/// status and the registry's <c>errors[]</c> entries when it sent them.
/// </summary>
public class RegistryException : ContainersException
{
    /// <summary>Creates an error whose message says which registry request failed and what to do.</summary>
    public RegistryException(string message)
        : this(message, null, [], null)
    {
    }

    /// <summary>Creates an error with a message and the error that caused it.</summary>
    public RegistryException(string message, Exception? innerException)
        : this(message, null, [], innerException)
    {
    }

    /// <summary>Creates an error for a response with <paramref name="statusCode"/> and the registry's error entries.</summary>
    public RegistryException(string message, HttpStatusCode? statusCode, IReadOnlyList<RegistryError> errors, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Errors = errors;
    }

    /// <summary>The HTTP status of the failed response, or null when there was no response (TLS, connection).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The <c>errors[]</c> entries of the response body; empty when the registry sent none.</summary>
    public IReadOnlyList<RegistryError> Errors { get; }
}
