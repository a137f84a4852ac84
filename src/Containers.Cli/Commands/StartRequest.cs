using System.Net.Sockets;
using System.Text;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// How <c>containers start</c> asks the monitor that owns a created container to start it: the monitor listens on
/// a Unix socket in the container's state folder (only the container's owner can start it, since its process
/// waits on a pipe the owner holds); <c>start</c> connects, and the monitor answers one line: <c>ok</c>, or the
/// error.
/// </summary>
internal sealed class StartRequest : IDisposable
{
    private const string SocketName = "start.sock";
    private const string Ok = "ok";

    private readonly Socket _listener;
    private readonly string _path;

    private StartRequest(Socket listener, string path)
    {
        _listener = listener;
        _path = path;
    }

    /// <summary>Listens for a start of <paramref name="container"/>.</summary>
    public static StartRequest Listen(Container container)
    {
        var path = Path.Combine(container.Info.Bundle, SocketName);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(4);
            return new StartRequest(listener, path);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for a start request and starts the container: true once it runs; false when the container ended (was
    /// killed or removed) before anyone asked.
    /// </summary>
    public async Task<bool> WaitAsync(Container container)
    {
        var ended = container.WaitAsync(CancellationToken.None);
        while (true)
        {
            var accept = _listener.AcceptAsync();
            if (await Task.WhenAny(accept, ended).ConfigureAwait(false) == ended)
            {
                return false;
            }

            using var client = await accept.ConfigureAwait(false);
            string answer;
            bool started;
            try
            {
                await container.StartAsync(CancellationToken.None).ConfigureAwait(false);
                (answer, started) = (Ok, true);
            }
            catch (ContainersException e)
            {
                (answer, started) = (e.Message.ReplaceLineEndings(" "), false);
            }

            await client.SendAsync(Encoding.UTF8.GetBytes(answer + "\n")).ConfigureAwait(false);
            if (started || !container.Status.CanKill())
            {
                return started;
            }
        }
    }

    /// <summary>Asks the owner of the created container at <paramref name="info"/> to start it.</summary>
    /// <exception cref="ContainersException">It is not a container 'create' made, or it could not start; the owner's error is the message.</exception>
    public static async Task SendAsync(ContainerInfo info, CancellationToken cancellationToken)
    {
        var path = Path.Combine(info.Bundle, SocketName);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            throw new ContainersException(
                $"container '{info.Id}' cannot be started from here: only containers made by 'containers create' can (its owner, pid {info.OwnerPid}, starts the others)");
        }

        using var reader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.UTF8);
        var answer = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (answer != Ok)
        {
            throw new ContainersException(answer ?? $"container '{info.Id}' ended before it started");
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
    }
}
