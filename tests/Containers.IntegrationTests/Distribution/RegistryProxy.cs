using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Net;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// A small HTTP proxy in front of a test registry that records every request and lets a test intercept requests
/// (answer them itself: errors, redirects) or watch and tamper with response bodies as they stream (corrupt a byte,
/// pause in the middle of a blob).
/// </summary>
internal sealed class RegistryProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Host", "Expect", "Proxy-Connection", "Upgrade",
    };

    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri _target;
    private readonly LoopbackHttpServer _server;

    public RegistryProxy(string upstreamHost, string bindAddress = "127.0.0.1")
    {
        _target = new Uri($"http://{upstreamHost}/");
        _server = new LoopbackHttpServer(HandleAsync, bindAddress, concurrent: true);
    }

    /// <summary>The proxy as references name it.</summary>
    public string Host => _server.Host;

    public int Port => _server.Port;

    public ConcurrentQueue<(string Method, string Path, NameValueCollection Headers)> Requests { get; } = new();

    /// <summary>Answers a request instead of the registry when it returns true.</summary>
    public Func<HttpListenerContext, Task<bool>>? Intercept { get; set; }

    /// <summary>When set, replaces the client's <c>Authorization</c> header towards the registry (a proxy with its own access).</summary>
    public string? UpstreamAuthorization { get; init; }

    /// <summary>When set, drops the client's <c>Range</c> header, as a registry (or a cache before it) that always sends whole blobs.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>Called with each chunk of a response body before it is sent: (request path, offset of the chunk, chunk).</summary>
    public Func<string, long, Memory<byte>, Task>? OnBody { get; set; }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        Requests.Enqueue((request.HttpMethod, request.RawUrl ?? string.Empty, new NameValueCollection(request.Headers)));
        try
        {
            if (Intercept is { } intercept && await intercept(context))
            {
                context.Response.Close();
                return;
            }

            await ForwardAsync(context);
            context.Response.Close();
        }
        catch (Exception)
        {
            // Like a registry that died: the client sees the connection drop.
            context.Response.Abort();
        }
    }

    private async Task ForwardAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_target, request.RawUrl));
        if (request.HasEntityBody)
        {
            forward.Content = new StreamContent(request.InputStream);
        }

        foreach (string key in request.Headers.AllKeys.OfType<string>())
        {
            if (HopByHop.Contains(key) || (IgnoreRange && key.Equals("Range", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var values = request.Headers.GetValues(key) ?? [];
            if (!forward.Headers.TryAddWithoutValidation(key, values))
            {
                forward.Content?.Headers.TryAddWithoutValidation(key, values);
            }
        }

        // Keep the client's Host, as a reverse proxy does, so the registry's absolute upload locations point back here.
        forward.Headers.Host = request.Headers["Host"];
        if (UpstreamAuthorization is { } authorization)
        {
            forward.Headers.Remove("Authorization");
            forward.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (request.ContentLength64 >= 0 && forward.Content is not null)
        {
            forward.Content.Headers.ContentLength = request.ContentLength64;
        }

        HttpResponseMessage upstream;
        try
        {
            upstream = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (HttpRequestException)
        {
            context.Response.StatusCode = 502;
            return;
        }

        using (upstream)
        {
            var response = context.Response;
            response.StatusCode = (int)upstream.StatusCode;
            foreach (var header in upstream.Headers.Concat(upstream.Content.Headers))
            {
                if (!HopByHop.Contains(header.Key))
                {
                    foreach (var value in header.Value)
                    {
                        response.AddHeader(header.Key, value);
                    }
                }
            }

            if (upstream.Content.Headers.ContentLength is { } length)
            {
                response.ContentLength64 = length;
            }

            if (request.HttpMethod == "HEAD")
            {
                return;
            }

            await using var body = await upstream.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            long offset = 0;
            string path = request.RawUrl ?? string.Empty;
            while (true)
            {
                int read = await body.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                if (OnBody is { } onBody)
                {
                    await onBody(path, offset, buffer.AsMemory(0, read));
                }

                await response.OutputStream.WriteAsync(buffer.AsMemory(0, read));
                offset += read;
            }
        }
    }
}
