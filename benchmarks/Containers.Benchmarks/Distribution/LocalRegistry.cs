using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Containers.Benchmarks.Distribution;

/// <summary>
/// Debian's <c>docker-registry</c> on 127.0.0.1 (a free port, plain HTTP, storage on tmpfs), started and stopped by a
/// benchmark. <see cref="Reset"/> restarts it with empty storage, so each push uploads every blob again.
/// </summary>
internal sealed class LocalRegistry : IDisposable
{
    private readonly string _directory;
    private readonly string _config;
    private Process? _process;

    public LocalRegistry(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _config = Path.Combine(directory, "config.yml");
        File.WriteAllText(_config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Storage}
            http:
              addr: 127.0.0.1:{Port}
            """);
        Start();
    }

    public int Port { get; }

    /// <summary>The registry as references name it.</summary>
    public string Host => $"127.0.0.1:{Port}";

    private string Storage => Path.Combine(_directory, "storage");

    /// <summary>Stops the registry, empties its storage and starts it again.</summary>
    public void Reset()
    {
        Stop();
        if (Directory.Exists(Storage))
        {
            Directory.Delete(Storage, recursive: true);
        }

        Start();
    }

    public void Dispose()
    {
        Stop();
        Directory.Delete(_directory, recursive: true);
    }

    private void Start()
    {
        var start = new ProcessStartInfo("docker-registry", ["serve", _config]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _process = Process.Start(start)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"docker-registry did not listen on {Port}");
    }

    private void Stop()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }
}
