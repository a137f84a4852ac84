using System.IO.Pipelines;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// The pseudo-terminal of a container process: the master side of a pty allocated from the container's own
/// devpts. What the process writes arrives on <see cref="Output"/>; what is written to <see cref="Input"/> is
/// what the process reads, with the terminal's line discipline in between (echo, Ctrl+C to SIGINT, …).
/// </summary>
public sealed class ContainerTerminal : IAsyncDisposable
{
    private readonly SafeFileHandle _master;
    private readonly FileStream _writer;
    private readonly FileStream _reader;
    private readonly Pipe _output = new();
    private readonly Task _pump;
    private OutputCopy? _copy;

    internal ContainerTerminal(SafeFileHandle master)
    {
        _master = master;
        _writer = new FileStream(master, FileAccess.Write, bufferSize: 0);
        _reader = new FileStream(master, FileAccess.Read, bufferSize: 0);
        Input = PipeWriter.Create(_writer, new StreamPipeWriterOptions(leaveOpen: true));
        _pump = Task.Run(PumpOutputAsync);
    }

    /// <summary>What the process writes to its terminal; completes when the last process holding the terminal is gone.</summary>
    public PipeReader Output => _output.Reader;

    /// <summary>Keyboard input for the process.</summary>
    public PipeWriter Input { get; }

    /// <summary>Sets the terminal's size (TIOCSWINSZ); the process gets SIGWINCH.</summary>
    /// <param name="columns">Width in characters.</param>
    /// <param name="rows">Height in characters.</param>
    public void Resize(ushort columns, ushort rows)
    {
        TerminalWindowSize.Set(_master, columns, rows);
    }

    /// <summary>
    /// Also copies what the process writes to <paramref name="destination"/>, as it comes, until the returned handle
    /// is disposed or a write to it fails; <see cref="Output"/> (or the kept log reading it) still gets everything.
    /// One copy at a time. A destination that does not keep up holds the output back, as a reader of
    /// <see cref="Output"/> that does not read does.
    /// </summary>
    /// <param name="destination">Where the copy goes (a socket's stream, say); this does not dispose it.</param>
    /// <exception cref="InvalidOperationException">Another copy is in place.</exception>
    /// <example>
    /// <code>
    /// // Shows a detached container's terminal (one with a kept log) on this console for a while.
    /// using (container.Terminal!.CopyOutputTo(Console.OpenStandardOutput()))
    ///     await Task.Delay(TimeSpan.FromSeconds(10));
    /// </code>
    /// </example>
    public IDisposable CopyOutputTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var copy = new OutputCopy(this, destination);
        if (Interlocked.CompareExchange(ref _copy, copy, null) is not null)
        {
            throw new InvalidOperationException("the terminal's output is copied elsewhere already: one copy at a time");
        }

        return copy;
    }

    /// <summary>Closes the master: the process's terminal hangs up.</summary>
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        _master.Dispose();
        await _pump.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _reader.DisposeAsync().ConfigureAwait(false);
    }

    private async Task PumpOutputAsync()
    {
        var writer = _output.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(16 * 1024);
                int read;
                try
                {
                    read = await _reader.ReadAsync(memory).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // EIO: the slave side has no holder left, which for a pty master is end-of-file.
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                if (Volatile.Read(ref _copy) is { } copy)
                {
                    try
                    {
                        await copy.Destination.WriteAsync(memory[..read]).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException)
                    {
                        // The copy's reader went away: the output goes on without it.
                        copy.Dispose();
                    }
                }

                writer.Advance(read);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private sealed class OutputCopy(ContainerTerminal terminal, Stream destination) : IDisposable
    {
        public Stream Destination { get; } = destination;

        public void Dispose() => Interlocked.CompareExchange(ref terminal._copy, null, this);
    }
}
