using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// A real registry for the tests: Debian's <c>docker-registry</c> (the CNCF distribution registry) on 127.0.0.1 with a
/// free port and a temporary storage directory, configured for no auth, htpasswd basic auth, token auth, and/or TLS.
/// It can be killed and restarted on the same port and storage.
/// </summary>
internal sealed class RegistryServer : IAsyncDisposable
{
    public const string User = "tester";
    public const string Password = "s3cret-pass";

    private readonly string _directory;
    private readonly string _config;
    private Process? _process;

    private RegistryServer(string directory, string config, int port, bool tls)
    {
        _directory = directory;
        _config = config;
        Port = port;
        Tls = tls;
    }

    /// <summary>The registry as references name it: <c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public int Port { get; }

    public bool Tls { get; }

    public string LogFile => Path.Combine(_directory, "registry.log");

    /// <summary>
    /// Starts a registry. <paramref name="auth"/> is the YAML of its <c>auth:</c> section (null for none);
    /// <paramref name="redirectBlobsTo"/> makes it answer blob GETs with a redirect to that base URL (the
    /// <c>redirect</c> storage middleware, as a registry in front of a CDN or object storage does).
    /// </summary>
    public static async Task<RegistryServer> StartAsync(string? auth = null, (string Certificate, string Key)? tls = null, Uri? redirectBlobsTo = null)
    {
        Requires.Tool("docker-registry");
        string directory = Directory.CreateTempSubdirectory("containers-registry-").FullName;
        int port = FreePort();
        string config = Path.Combine(directory, "config.yml");
        string tlsSection = tls is { } t ? $"\n  tls:\n    certificate: {t.Certificate}\n    key: {t.Key}" : string.Empty;
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "storage")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}{tlsSection}
            {auth ?? string.Empty}
            {(redirectBlobsTo is null ? string.Empty : $"middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: {redirectBlobsTo}")}
            """);
        var server = new RegistryServer(directory, config, port, tls is not null);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>The <c>auth:</c> section for htpasswd basic auth with <see cref="User"/>/<see cref="Password"/> (bcrypt, made by <c>htpasswd</c>).</summary>
    public static async Task<string> HtpasswdAuthAsync(string directory)
    {
        Requires.Tool("htpasswd");
        string file = Path.Combine(directory, "htpasswd");
        await ImageFixtures.RunAsync("htpasswd", "-Bbc", file, User, Password);
        return $"auth:\n  htpasswd:\n    realm: test-realm\n    path: {file}";
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILLs the registry (mid-transfer faults).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the registry again on the same port and storage.</summary>
    public Task RestartAsync()
    {
        Kill();
        return StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec docker-registry serve \"$0\" >>\"$1\" 2>&1");
        start.ArgumentList.Add(_config);
        start.ArgumentList.Add(LogFile);
        _process = Process.Start(start)!;
        // Generous: on a loaded machine the registry took more than 20 s to listen. Tests that start one allow 150 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited {_process.ExitCode}: {await File.ReadAllTextAsync(LogFile)}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"docker-registry did not listen on {Port}: {await File.ReadAllTextAsync(LogFile)}");
    }
}
