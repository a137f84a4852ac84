using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Containers.Distribution.Auth;
using Microsoft.Extensions.Logging;

namespace Containers.Distribution.Http;

/// <summary>
/// Sends registry requests: HTTPS with the system trust store (plus a CA file), plain HTTP only for loopback or
/// insecure registries that do not speak TLS, our own redirect handling (<see cref="RedirectPolicy"/>),
/// authentication (<see cref="Authenticator"/>), retries with exponential backoff and full jitter on 429, 5xx and
/// dropped connections, and a timeout on every wait for response headers.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly X509Certificate2Collection? _extraRoots;
    private readonly ConcurrentDictionary<string, byte> _tlsSpoken = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryEndpoint>>> _endpoints = new(StringComparer.OrdinalIgnoreCase);

    public RegistryTransport(RegistryClientOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        if (options.CaCertificateFile is { } caFile)
        {
            _extraRoots = [];
            _extraRoots.ImportFromPemFile(caFile);
        }

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.Timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            UseCookies = false,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateCertificate },
        };
        _http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("containers-net/1.0");
        Auth = new Authenticator(options.Credentials ?? DockerCredentials.Default, SendFollowingRedirectsAsync);
    }

    public Authenticator Auth { get; }

    public TimeSpan Timeout => _options.Timeout;

    public bool IsInsecure(string registry) => _options.InsecureRegistries.Contains(registry);

    /// <summary>The endpoint of a registry, probing its scheme and challenge with <c>GET /v2/</c> the first time.</summary>
    public async Task<RegistryEndpoint> EndpointAsync(string registry, CancellationToken cancellationToken)
    {
        var lazy = _endpoints.GetOrAdd(registry, r => new Lazy<Task<RegistryEndpoint>>(() => PingAsync(r, cancellationToken)));
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            _endpoints.TryRemove(new KeyValuePair<string, Lazy<Task<RegistryEndpoint>>>(registry, lazy));
            throw;
        }
    }

    /// <summary>
    /// Sends a request built by <paramref name="build"/> (called again for every attempt, so bodies are fresh),
    /// authenticated for <paramref name="scopes"/>. Retries 429, 5xx and connection failures when
    /// <paramref name="retryable"/>; returns any other response for the caller to check.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(RegistryEndpoint endpoint, IReadOnlyList<string> scopes, Func<HttpRequestMessage> build, string what, bool retryable, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                response = await SendAuthenticatedAsync(endpoint, scopes, build, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (retryable && attempt < _options.MaxAttempts && IsTransient(e, cancellationToken))
            {
                await BackoffAsync(attempt, null, what, e.Message, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                throw Unreachable(endpoint.Registry, what, e);
            }

            if (retryable && attempt < _options.MaxAttempts && IsRetryableStatus(response.StatusCode))
            {
                var retryAfter = RetryAfter(response);
                string status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                response.Dispose();
                await BackoffAsync(attempt, retryAfter, what, status, cancellationToken).ConfigureAwait(false);
                continue;
            }

            return response;
        }
    }

    /// <summary>Waits before attempt <paramref name="attempt"/> + 1: exponential, full jitter, at least Retry-After.</summary>
    public async Task BackoffAsync(int attempt, TimeSpan? retryAfter, string what, string reason, CancellationToken cancellationToken)
    {
        double ceiling = Math.Min(MaxRetryDelay.TotalMilliseconds, _options.RetryDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
        if (retryAfter is { } after && after > delay)
        {
            delay = after > MaxRetryDelay * 3 ? MaxRetryDelay * 3 : after;
        }

        _logger.LogInformation("{What}: {Reason}; retrying in {Delay} ms (attempt {Attempt} of {Max})", what, reason, (int)delay.TotalMilliseconds, attempt + 1, _options.MaxAttempts);
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
    }

    public int MaxAttempts => _options.MaxAttempts;

    /// <summary>True for failures worth another attempt: dropped or refused connections, timeouts, truncated bodies.</summary>
    public static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e switch
        {
            HttpRequestException h => h.InnerException is not AuthenticationException && h.HttpRequestError != HttpRequestError.SecureConnectionError,
            TimeoutException or IOException => true,
            OperationCanceledException => true,
            _ => false,
        };

    public static RegistryException Unreachable(string registry, string what, Exception e) => e switch
    {
        OperationCanceledException or TimeoutException => new RegistryException($"{what}: {registry} did not answer in time", e),
        _ => new RegistryException($"{what}: cannot reach {registry}: {e.Message}", e),
    };

    public void Dispose() => _http.Dispose();

    /// <summary>Sends with the caller's token and the configured timeout for the response headers; the body is read later.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no response from {request.RequestUri?.GetLeftPart(UriPartial.Authority)} within {_options.Timeout.TotalSeconds:0} s", e);
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var current = request;
        try
        {
            for (int hop = 0; ; hop++)
            {
                var response = await SendRawAsync(current, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect))
                {
                    return response;
                }

                var from = current.RequestUri!;
                var location = response.Headers.Location;
                response.Dispose();
                if (location is null)
                {
                    throw new RegistryException($"{from.GetLeftPart(UriPartial.Path)}: a redirect without a Location header");
                }

                if (hop == RedirectPolicy.MaxRedirects)
                {
                    throw new RegistryException($"{from.GetLeftPart(UriPartial.Path)}: more than {RedirectPolicy.MaxRedirects} redirects");
                }

                if (current.Method != HttpMethod.Get && current.Method != HttpMethod.Head)
                {
                    throw new RegistryException($"{from.GetLeftPart(UriPartial.Path)}: the registry redirected a {current.Method} request, which this client does not follow");
                }

                var to = location.IsAbsoluteUri ? location : new Uri(from, location);
                if (RedirectPolicy.Refusal(from, to, IsInsecure) is { } refusal)
                {
                    throw new RegistryRedirectException($"{from.GetLeftPart(UriPartial.Path)}: {refusal}", WithoutQuery(from), WithoutQuery(to));
                }

                var next = new HttpRequestMessage(current.Method, to);
                foreach (var header in current.Headers)
                {
                    if (header.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && !RedirectPolicy.SameOrigin(from, to))
                    {
                        continue;
                    }

                    next.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                _logger.LogDebug("following a redirect from {From} to {To}", from.GetLeftPart(UriPartial.Path), to.GetLeftPart(UriPartial.Path));
                if (!ReferenceEquals(current, request))
                {
                    current.Dispose();
                }

                current = next;
            }
        }
        finally
        {
            if (!ReferenceEquals(current, request))
            {
                current.Dispose();
            }
        }
    }

    private async Task<HttpResponseMessage> SendAuthenticatedAsync(RegistryEndpoint endpoint, IReadOnlyList<string> scopes, Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        for (int pass = 0; ; pass++)
        {
            using var request = build();
            await Auth.AuthorizeAsync(endpoint, request, scopes, cancellationToken).ConfigureAwait(false);
            var response = await SendFollowingRedirectsAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || pass > 0 || !Auth.OnUnauthorized(endpoint, response, scopes))
            {
                return response;
            }

            response.Dispose();
        }
    }

    private async Task<RegistryEndpoint> PingAsync(string registry, CancellationToken cancellationToken)
    {
        string host = RegistryHosts.ApiHost(registry);
        bool mayUseHttp = IsInsecure(registry) || RegistryHosts.IsLoopback(host);
        var https = new Uri($"https://{host}/");
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                try
                {
                    return await ProbeAsync(registry, https, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (mayUseHttp && !_tlsSpoken.ContainsKey(RegistryHosts.HostOf(host)) && !cancellationToken.IsCancellationRequested && e.HttpRequestError is HttpRequestError.SecureConnectionError or HttpRequestError.Unknown)
                {
                    _logger.LogDebug("{Registry} does not speak TLS ({Error}); using plain HTTP", registry, e.Message);
                    return await ProbeAsync(registry, new Uri($"http://{host}/"), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError || e.InnerException is AuthenticationException)
            {
                throw new RegistryException(
                    $"cannot establish a trusted TLS connection to {registry}: {e.InnerException?.Message ?? e.Message}; give its CA certificate (--ca-file / RegistryClientOptions.CaCertificateFile) or mark it insecure",
                    e);
            }
            catch (Exception e) when (attempt < _options.MaxAttempts && IsTransient(e, cancellationToken))
            {
                await BackoffAsync(attempt, null, $"reach {registry}", e.Message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                throw Unreachable(registry, $"reach {registry}", e);
            }
        }
    }

    private async Task<RegistryEndpoint> ProbeAsync(string registry, Uri baseUri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "v2/"));
        using var response = await SendFollowingRedirectsAsync(request, cancellationToken).ConfigureAwait(false);
        if (IsRetryableStatus(response.StatusCode))
        {
            throw new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Unauthorized))
        {
            throw await RegistryResponses.ErrorAsync(response, $"{registry} is not an OCI distribution registry: GET /v2/", cancellationToken).ConfigureAwait(false);
        }

        var challenge = response.StatusCode == HttpStatusCode.Unauthorized ? Authenticator.ChallengeOf(response) : null;
        _logger.LogDebug("{Registry}: {Base}, authentication {Scheme}", registry, baseUri, challenge?.Scheme ?? "none");
        return new RegistryEndpoint(registry, baseUri, challenge);
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        string host = sender is SslStream ssl ? ssl.TargetHostName : string.Empty;
        _tlsSpoken.TryAdd(host, 0);
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (_options.InsecureRegistries.Any(r => RegistryHosts.HostOf(r).Equals(host, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        if (_extraRoots is null || certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_extraRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }

    private static Uri WithoutQuery(Uri uri) => new(uri.GetLeftPart(UriPartial.Path));

    private static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };
}
