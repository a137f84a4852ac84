namespace Containers.Distribution.Http;

/// <summary>
/// Which redirects a registry request may follow and with which headers. A redirect never downgrades HTTPS to HTTP,
/// never goes to plain HTTP on a host that is neither loopback nor marked insecure, and never carries the
/// <c>Authorization</c> header to another origin (blob storage behind a registry must not see the registry's
/// credentials).
/// </summary>
internal static class RedirectPolicy
{
    public const int MaxRedirects = 5;

    /// <summary>Returns null when the redirect may be followed, otherwise why not.</summary>
    public static string? Refusal(Uri from, Uri to, Func<string, bool> isInsecure)
    {
        if (to.Scheme != Uri.UriSchemeHttps && to.Scheme != Uri.UriSchemeHttp)
        {
            return $"the registry redirected to '{to.Scheme}:', which is not HTTP(S)";
        }

        if (from.Scheme == Uri.UriSchemeHttps && to.Scheme == Uri.UriSchemeHttp)
        {
            return $"the registry redirected from HTTPS to plain HTTP ({to.GetLeftPart(UriPartial.Authority)}); refused";
        }

        string authority = RegistryHosts.Authority(to);
        if (to.Scheme == Uri.UriSchemeHttp && !RegistryHosts.IsLoopback(authority) && !isInsecure(authority))
        {
            return $"the registry redirected to plain HTTP on {authority}, which is neither loopback nor marked insecure; refused";
        }

        return null;
    }

    /// <summary>True when credentials for <paramref name="from"/> may be sent to <paramref name="to"/>: same scheme, host and port.</summary>
    public static bool SameOrigin(Uri from, Uri to) =>
        from.Scheme == to.Scheme && string.Equals(from.IdnHost, to.IdnHost, StringComparison.OrdinalIgnoreCase) && from.Port == to.Port;
}
