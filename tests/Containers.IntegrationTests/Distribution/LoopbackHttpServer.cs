using System.Net;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// An <see cref="HttpListener"/> on a free loopback port that hands every request to a handler until it is disposed:
/// the listening part the tests' proxy and token service share.
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    /// <param name="handle">Answers one request; it closes or aborts the response itself.</param>
    /// <param name="bindAddress">The loopback address to listen on.</param>
    /// <param name="concurrent">Whether requests are handled at once (a proxy streaming blobs) or one after another.</param>
    public LoopbackHttpServer(Func<HttpListenerContext, Task> handle, string bindAddress = "127.0.0.1", bool concurrent = false)
    {
        Port = RegistryServer.FreePort();
        Host = $"{bindAddress}:{Port}";
        _listener.Prefixes.Add($"http://{Host}/");
        _listener.Start();
        _loop = Task.Run(() => ServeAsync(handle, concurrent));
    }

    /// <summary>The server as a URL's host names it: address and port.</summary>
    public string Host { get; }

    public int Port { get; }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Closing looks its endpoint up again by port; a listener another test has started on a port reused since
            // makes that fail ("address already in use"). The listener is closed either way.
        }

        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Func<HttpListenerContext, Task> handle, bool concurrent)
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            if (concurrent)
            {
                _ = Task.Run(() => handle(context));
            }
            else
            {
                await handle(context);
            }
        }
    }
}
