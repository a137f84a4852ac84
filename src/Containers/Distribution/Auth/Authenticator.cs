using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Containers.Distribution.Http;

namespace Containers.Distribution.Auth;

/// <summary>
/// Adds credentials to registry requests: none for an open registry, HTTP Basic when the registry challenges with
/// Basic, and for Bearer a token from the challenge's realm for the request's scopes (distribution token
/// specification), fetched with the user's credentials when there are any and cached per scope.
/// </summary>
internal sealed class Authenticator(IRegistryCredentialProvider credentials, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send)
{
    private const int MaxTokenResponse = 1 << 20;

    private readonly TokenCache _tokens = new();
    private readonly ConcurrentDictionary<string, Task<RegistryCredentials?>> _credentials = new(StringComparer.Ordinal);

    public Task<RegistryCredentials?> CredentialsAsync(string registry, CancellationToken cancellationToken) =>
        _credentials.GetOrAdd(registry, r => credentials.GetAsync(r, cancellationToken).AsTask());

    /// <summary>Sets the request's <c>Authorization</c> header as the endpoint's challenge demands.</summary>
    public async Task AuthorizeAsync(RegistryEndpoint endpoint, HttpRequestMessage request, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var challenge = endpoint.Challenge;
        if (challenge is null || request.RequestUri is not { } uri || !RedirectPolicy.SameOrigin(endpoint.BaseUri, uri))
        {
            // Credentials go only to the registry's own origin, never to a blob store or upload host elsewhere.
            return;
        }

        var user = await CredentialsAsync(endpoint.Registry, cancellationToken).ConfigureAwait(false);
        if (challenge.IsBasic)
        {
            if (user is not null)
            {
                request.Headers.Authorization = Basic(user);
            }

            return;
        }

        if (challenge.IsBearer)
        {
            string token = await _tokens.GetAsync(
                TokenCache.Key(endpoint.Registry, challenge.Service, scopes),
                () => FetchTokenAsync(endpoint, challenge, scopes, user, cancellationToken)).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>
    /// Learns from a 401: records the challenge it carries and forgets the token that was refused. Returns true when
    /// a retry may succeed (a new challenge, or a token that can be fetched again).
    /// </summary>
    public bool OnUnauthorized(RegistryEndpoint endpoint, HttpResponseMessage response, IReadOnlyList<string> scopes)
    {
        var challenge = ChallengeOf(response);
        if (challenge is null)
        {
            return false;
        }

        var previous = endpoint.Challenge;
        endpoint.Challenge = challenge;
        if (challenge.IsBearer)
        {
            _tokens.Invalidate(TokenCache.Key(endpoint.Registry, challenge.Service, scopes));
            return true;
        }

        return previous is null || !previous.IsBasic;
    }

    /// <summary>The first Basic or Bearer challenge of a response, or null.</summary>
    public static AuthChallenge? ChallengeOf(HttpResponseMessage response)
    {
        foreach (var header in response.Headers.WwwAuthenticate)
        {
            if (header.Scheme.Equals("bearer", StringComparison.OrdinalIgnoreCase) || header.Scheme.Equals("basic", StringComparison.OrdinalIgnoreCase))
            {
                if (AuthChallenge.Parse(header.Scheme, header.Parameter) is { } challenge)
                {
                    return challenge;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Checks credentials against a registry the way <c>docker login</c> does: Basic on <c>/v2/</c>, or a token
    /// request (no scope) to a Bearer realm.
    /// </summary>
    public async Task VerifyAsync(RegistryEndpoint endpoint, RegistryCredentials user, CancellationToken cancellationToken)
    {
        var challenge = endpoint.Challenge;
        if (challenge is null)
        {
            return;
        }

        if (challenge.IsBearer)
        {
            await FetchTokenAsync(endpoint, challenge, [], user, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Uri("v2/"));
        request.Headers.Authorization = Basic(user);
        using var response = await send(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Rejected(endpoint.Registry, user, await RegistryResponses.ErrorAsync(response, $"log in to {endpoint.Registry}", cancellationToken).ConfigureAwait(false));
        }
    }

    private static AuthenticationHeaderValue Basic(RegistryCredentials user) => user.IdentityToken is null
        ? new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user.Username}:{user.Password}")))
        : throw new RegistryAuthenticationException(
            "the stored credentials are an identity token, which only a registry with a bearer token service accepts, but this registry asks for Basic auth; log in with a user name and password",
            System.Net.HttpStatusCode.Unauthorized,
            []);

    private static RegistryAuthenticationException Rejected(string registry, RegistryCredentials user, RegistryException cause) =>
        new($"{registry} rejected {(user.IdentityToken is null ? "the user name or password" : "the identity token")} of '{user.Username}' ({string.Join("; ", cause.Errors.Select(e => e.ToString()).DefaultIfEmpty(cause.StatusCode.ToString()))}); log in again with 'containers login {registry}'", cause.StatusCode, cause.Errors);

    private static Uri WithQuery(Uri realm, string query)
    {
        var builder = new UriBuilder(realm);
        builder.Query = builder.Query.Length > 1 ? builder.Query[1..] + (query.Length > 0 ? "&" + query : string.Empty) : query;
        return builder.Uri;
    }

    /// <summary>
    /// The OAuth2 form a refresh token is exchanged with (distribution's token specification, "oauth"): a POST of
    /// <c>grant_type=refresh_token</c>, the service, the scopes separated by spaces and a client id.
    /// </summary>
    private static HttpRequestMessage RefreshTokenRequest(Uri realm, string? service, IReadOnlyList<string> scopes, string refreshToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", refreshToken),
            new("client_id", "containers"),
        };
        if (service is not null)
        {
            form.Add(new("service", service));
        }

        if (scopes.Count > 0)
        {
            form.Add(new("scope", string.Join(' ', scopes)));
        }

        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }

    private async Task<(string Token, TimeSpan Lifetime)> FetchTokenAsync(RegistryEndpoint endpoint, AuthChallenge challenge, IReadOnlyList<string> scopes, RegistryCredentials? user, CancellationToken cancellationToken)
    {
        if (challenge.Realm is not { Length: > 0 } realm || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new RegistryException($"{endpoint.Registry} asks for a bearer token but names no valid realm ('{challenge.Realm}')");
        }

        if (realmUri.Scheme != Uri.UriSchemeHttps && !(realmUri.Scheme == Uri.UriSchemeHttp && (RegistryHosts.IsLoopback(RegistryHosts.Authority(realmUri)) || endpoint.BaseUri.Scheme == Uri.UriSchemeHttp)))
        {
            throw new RegistryException($"{endpoint.Registry} names the token realm {realm}, which is not HTTPS; refused so that credentials are not sent in clear text");
        }

        var query = new StringBuilder();
        if (challenge.Service is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        foreach (var scope in scopes)
        {
            query.Append(query.Length > 0 ? "&" : string.Empty).Append("scope=").Append(Uri.EscapeDataString(scope));
        }

        using var request = user?.IdentityToken is { } refreshToken
            ? RefreshTokenRequest(realmUri, challenge.Service, scopes, refreshToken)
            : new HttpRequestMessage(HttpMethod.Get, WithQuery(realmUri, query.ToString()));
        if (user is { IdentityToken: null })
        {
            request.Headers.Authorization = Basic(user);
        }

        using var response = await send(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var error = await RegistryResponses.ErrorAsync(response, $"get a token from {realmUri.GetLeftPart(UriPartial.Path)}", cancellationToken).ConfigureAwait(false);
            throw user is not null && response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden
                ? Rejected(endpoint.Registry, user, error)
                : error;
        }

        byte[] body = await RegistryResponses.ReadBoundedAsync(response.Content, MaxTokenResponse, "token response", cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string? token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (string.IsNullOrEmpty(token))
            {
                throw new RegistryException($"the token service of {endpoint.Registry} answered without a token");
            }

            int seconds = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out int s) && s > 0 ? s : 60;
            return (token, TimeSpan.FromSeconds(Math.Max(seconds, 60)));
        }
        catch (JsonException e)
        {
            throw new RegistryException($"the token service of {endpoint.Registry} answered with invalid JSON: {e.Message}", e);
        }
    }
}
