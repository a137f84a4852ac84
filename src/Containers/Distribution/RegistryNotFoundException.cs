using System.Net;

namespace Containers.Distribution;

/// <summary>The registry does not have the repository, tag, manifest or blob that was asked for.</summary>
public sealed class RegistryNotFoundException : RegistryException
{
    /// <summary>Creates an error for a 404 response with the registry's error entries.</summary>
    public RegistryNotFoundException(string message, IReadOnlyList<RegistryError> errors)
        : base(message, HttpStatusCode.NotFound, errors)
    {
    }
}
