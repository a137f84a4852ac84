using Containers.Distribution.Auth;

namespace Containers.Distribution.Http;

/// <summary>
/// One registry as this client reaches it: the base URI (scheme chosen by probing <c>/v2/</c>) and the challenge its
/// <c>/v2/</c> answered with, which says how to authenticate before the first 401.
/// </summary>
internal sealed class RegistryEndpoint(string registry, Uri baseUri, AuthChallenge? challenge)
{
    private AuthChallenge? _challenge = challenge;

    /// <summary>The registry as references name it (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
    public string Registry { get; } = registry;

    /// <summary><c>https://host[:port]/</c>, or <c>http://</c> for a loopback or insecure registry without TLS.</summary>
    public Uri BaseUri { get; } = baseUri;

    public AuthChallenge? Challenge
    {
        get => Volatile.Read(ref _challenge);
        set => Volatile.Write(ref _challenge, value);
    }

    public Uri Uri(string pathAndQuery) => new(BaseUri, pathAndQuery);
}
