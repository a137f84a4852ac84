namespace Containers.Distribution;

/// <summary>
/// A user name and password (or access token used as a password) for one registry, or an identity token: the OAuth2
/// refresh token Docker keeps as <c>identitytoken</c> in its config (and credential helpers return with the user
/// name <c>&lt;token&gt;</c>), exchanged at the registry's token service for access tokens.
/// </summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password or token.</param>
/// <example>
/// <code>
/// var basic = new RegistryCredentials("me", "secret");
/// var identity = RegistryCredentials.FromIdentityToken("eyJhbGciOi…");
/// </code>
/// </example>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>
    /// An OAuth2 refresh token; when set, bearer tokens are requested with <c>grant_type=refresh_token</c> (a
    /// <c>POST</c> to the token service) instead of with the user name and password.
    /// </summary>
    public string? IdentityToken { get; init; }

    /// <summary>Credentials that are only an identity token (what Docker stores after an OAuth login).</summary>
    /// <param name="identityToken">The refresh token.</param>
    /// <param name="username">The user name, when known; <c>&lt;token&gt;</c> otherwise, as Docker's helpers say.</param>
    /// <returns>The credentials.</returns>
    public static RegistryCredentials FromIdentityToken(string identityToken, string? username = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(identityToken);
        return new RegistryCredentials(string.IsNullOrEmpty(username) ? "<token>" : username, string.Empty) { IdentityToken = identityToken };
    }

    /// <summary>Never prints the password or the identity token.</summary>
    /// <returns>The user name only.</returns>
    public override string ToString() => $"RegistryCredentials {{ Username = {Username}{(IdentityToken is null ? string.Empty : ", IdentityToken = (set)")} }}";
}
