using System.Runtime.InteropServices;
using Containers.Runtime;

namespace Containers.Cli;

/// <summary>
/// SIGHUP for a command that runs a process in front of the user (a foreground <c>run</c>, an <c>exec</c>): forwarded
/// to the process as the other signals are; when it came because this command's terminal hung up (a closed terminal
/// window, a dropped ssh session), the process is killed if it has not exited <see cref="GracePeriod"/> later. With
/// its terminal gone nobody can end the process any more: an interactive shell ignores SIGHUP, and the command would
/// wait for it for ever (or, without a handler, die and leave it running). A SIGHUP sent while the terminal is still
/// there (or to a command with none) is only forwarded, so a program that reloads on SIGHUP keeps running.
/// </summary>
internal static class HangupForwarding
{
    private const int SigHup = 1;

    /// <summary>How long a process may take to exit after its command's terminal hung up, before it is killed.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(10);

    /// <summary>Handles SIGHUP until disposed.</summary>
    /// <param name="signal">Sends a signal to the process (one that has exited is left alone).</param>
    /// <param name="kill">Kills the process and waits for it to end.</param>
    /// <param name="running">Canceled once the process has ended: no kill is due any more.</param>
    public static PosixSignalRegistration Register(Action<int> signal, Func<CancellationToken, Task> kill, CancellationToken running)
    {
        var killing = 0;
        return PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            signal(SigHup);
            if (HostTerminal.IsHungUp() && Interlocked.Exchange(ref killing, 1) == 0)
            {
                _ = KillAfterGraceAsync(kill, running);
            }
        });
    }

    private static async Task KillAfterGraceAsync(Func<CancellationToken, Task> kill, CancellationToken running)
    {
        try
        {
            await Task.Delay(GracePeriod, running).ConfigureAwait(false);
            await kill(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The process exited by itself within the grace period: the command is ending.
        }
        catch (ContainersException)
        {
            // It exited between the check and the kill.
        }
    }
}
