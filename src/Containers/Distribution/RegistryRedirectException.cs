namespace Containers.Distribution;

/// <summary>
/// The registry redirected a request somewhere this client does not follow: from HTTPS to plain HTTP, to plain HTTP on
/// a host that is neither loopback nor marked insecure, or to a scheme that is not HTTP(S). Nothing was sent there.
/// </summary>
public sealed class RegistryRedirectException : RegistryException
{
    /// <summary>Creates an error for a refused redirect from <paramref name="from"/> to <paramref name="location"/>.</summary>
    public RegistryRedirectException(string message, Uri from, Uri location)
        : base(message)
    {
        From = from;
        Location = location;
    }

    /// <summary>The request that was redirected (without its query, which may hold a signature).</summary>
    public Uri From { get; }

    /// <summary>Where the registry redirected to (without its query).</summary>
    public Uri Location { get; }
}
