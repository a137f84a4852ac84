using System.Runtime.InteropServices;
using Containers.Runtime;

namespace Containers.Cli;

/// <summary>
/// Docker's sig-proxy for a foreground container: SIGINT, SIGTERM and SIGHUP, which would end this command, go to the
/// container instead. Taken before the container is created, since one started in one step may run its program
/// before its creation returns: a signal that comes before <see cref="Attach"/> is sent once the container is there.
/// </summary>
internal sealed class SignalProxy : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _running = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _hangup;
    private Container? _container;
    private int _pending;

    public SignalProxy()
    {
        _interrupt = Forward(PosixSignal.SIGINT, 2);
        _terminate = Forward(PosixSignal.SIGTERM, 15);
        _hangup = HangupForwarding.Register(Signal, KillAsync, _running.Token);
    }

    /// <summary>Sends the signals from here on to <paramref name="container"/>, and the first that came before.</summary>
    public void Attach(Container container)
    {
        int pending;
        lock (_gate)
        {
            _container = container;
            pending = _pending;
        }

        if (pending != 0)
        {
            Signal(pending);
        }
    }

    /// <summary>The container has ended: a kill after a hang-up is not due any more.</summary>
    public Task EndedAsync() => _running.CancelAsync();

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _hangup.Dispose();
        _running.Dispose();
    }

    private PosixSignalRegistration Forward(PosixSignal signal, int number) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            Signal(number);
        });

    private void Signal(int number)
    {
        Container? container;
        lock (_gate)
        {
            container = _container;
            if (container is null && _pending == 0)
            {
                _pending = number;
            }
        }

        try
        {
            if (container is not null && container.Status.CanKill())
            {
                _ = container.SignalAsync(number);
            }
        }
        catch (ContainerStatusException)
        {
            // It exited between the check and the signal.
        }
    }

    private Task KillAsync(CancellationToken cancellationToken)
    {
        Container? container;
        lock (_gate)
        {
            container = _container;
        }

        return container is null ? Task.CompletedTask : container.KillAsync(cancellationToken);
    }
}
