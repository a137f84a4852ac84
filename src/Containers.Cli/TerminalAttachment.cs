using System.Runtime.InteropServices;
using Containers.Runtime;

namespace Containers.Cli;

/// <summary>
/// This command's terminal attached to a container's (<c>run -t</c>, <c>exec -t</c>): the container's output copied
/// to stdout, with <c>-i</c> stdin copied in and the host terminal in raw mode (so Ctrl-C is a byte for the
/// container, not a signal for this command), and the window size forwarded now and on every SIGWINCH. Disposing
/// restores the terminal.
/// </summary>
internal sealed class TerminalAttachment : IDisposable
{
    private readonly HostTerminal? _raw;
    private readonly PosixSignalRegistration? _resize;
    private readonly Task _pumps;

    private TerminalAttachment(ContainerTerminal terminal, bool interactive, CancellationToken cancellationToken)
    {
        _raw = interactive ? HostTerminal.EnterRawMode() : null;
        try
        {
            _resize = OperatingSystem.IsLinux() ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => Resize(terminal)) : null;
            Resize(terminal);
            _pumps = Task.WhenAll(
                terminal.Output.CopyToAsync(HostTerminal.Open(1, FileAccess.Write), cancellationToken),
                interactive ? HostTerminal.Open(0, FileAccess.Read).CopyToAsync(terminal.Input.AsStream(), cancellationToken) : Task.CompletedTask);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Attaches to <paramref name="terminal"/>, or returns null when the process has none.</summary>
    public static TerminalAttachment? Attach(ContainerTerminal? terminal, bool interactive, CancellationToken cancellationToken) =>
        terminal is null ? null : new TerminalAttachment(terminal, interactive, cancellationToken);

    /// <summary>After the process exited: lets the last output through (at most a second: a grandchild may hold the terminal open).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken) =>
        await Task.WhenAny(_pumps, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);

    public void Dispose()
    {
        _resize?.Dispose();
        _raw?.Dispose();
    }

    /// <summary>Gives the container's terminal the size of the one this command runs in.</summary>
    private static void Resize(ContainerTerminal terminal)
    {
        if (HostTerminal.WindowSize(1) is { } size)
        {
            terminal.Resize(size.Columns, size.Rows);
        }
    }
}
