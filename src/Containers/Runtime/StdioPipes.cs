using System.IO.Pipelines;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// Three pipes for a container's stdio. The child's ends are handed to the plan (duplicated onto 0, 1 and 2 in the
/// child) and closed here once the child has them, so end-of-file reaches each side when the other closes.
/// Output is read from the start into an in-process buffer of up to <see cref="BufferedOutputBytes"/> per stream,
/// so a program that writes less than that never blocks on a full kernel pipe (64 KiB) while nobody reads; one that
/// writes more blocks, as on any pipe, until the caller reads.
/// </summary>
internal sealed class StdioPipes : IAsyncDisposable
{
    /// <summary>How much output per stream is read ahead of the caller before the program is made to wait.</summary>
    public const int BufferedOutputBytes = 1 << 20;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pumps;
    private readonly AnonymousPipeServerStream _stdin;
    private readonly AnonymousPipeServerStream _stdout;
    private readonly AnonymousPipeServerStream _stderr;

    private StdioPipes(AnonymousPipeServerStream stdin, AnonymousPipeServerStream stdout, AnonymousPipeServerStream stderr)
    {
        _stdin = stdin;
        _stdout = stdout;
        _stderr = stderr;
        ChildStdin = TakeClientEnd(stdin);
        ChildStdout = TakeClientEnd(stdout);
        ChildStderr = TakeClientEnd(stderr);
        Stdin = PipeWriter.Create(stdin, new StreamPipeWriterOptions(leaveOpen: false));
        var stdoutBuffer = NewBuffer();
        var stderrBuffer = NewBuffer();
        Stdout = stdoutBuffer.Reader;
        Stderr = stderrBuffer.Reader;
        _pumps = Task.WhenAll(PumpAsync(stdout, stdoutBuffer.Writer, _stop.Token), PumpAsync(stderr, stderrBuffer.Writer, _stop.Token));
    }

    public SafeFileHandle ChildStdin { get; }

    public SafeFileHandle ChildStdout { get; }

    public SafeFileHandle ChildStderr { get; }

    public PipeWriter Stdin { get; }

    public PipeReader Stdout { get; }

    public PipeReader Stderr { get; }

    public static StdioPipes Create()
    {
        // HandleInheritability.None: close-on-exec on both ends, so a Process.Start elsewhere in this process
        // cannot inherit them and hold a pipe open; the plan's dup2 onto 0-2 clears the flag in the child.
        AnonymousPipeServerStream? stdin = null, stdout = null;
        try
        {
            stdin = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
            stdout = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
            var stderr = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
            return new StdioPipes(stdin, stdout, stderr);
        }
        catch
        {
            stdin?.Dispose();
            stdout?.Dispose();
            throw;
        }
    }

    /// <summary>Closes this process's copies of the child's ends, once the child holds its own.</summary>
    public void CloseChildEnds()
    {
        ChildStdin.Dispose();
        ChildStdout.Dispose();
        ChildStderr.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        CloseChildEnds();
        await Stdin.CompleteAsync().ConfigureAwait(false);
        await Stdout.CompleteAsync().ConfigureAwait(false);
        await Stderr.CompleteAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pumps.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        await _stdin.DisposeAsync().ConfigureAwait(false);
        await _stdout.DisposeAsync().ConfigureAwait(false);
        await _stderr.DisposeAsync().ConfigureAwait(false);
    }

    // The reader goes on inline, on the pump's thread (a pool thread already), when output or end of file arrives,
    // rather than waking another pool thread for every read.
    private static Pipe NewBuffer() => new(new System.IO.Pipelines.PipeOptions(
        readerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: BufferedOutputBytes, resumeWriterThreshold: BufferedOutputBytes / 2, useSynchronizationContext: false));

    /// <summary>Moves one stream's output into its buffer until end of file; the reader sees end of file or the read error.</summary>
    private static async Task PumpAsync(Stream source, PipeWriter buffer, CancellationToken cancellationToken)
    {
        try
        {
            await source.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            await buffer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await buffer.CompleteAsync(e is OperationCanceledException ? null : e).ConfigureAwait(false);
        }
    }

    private static SafeFileHandle TakeClientEnd(AnonymousPipeServerStream server)
    {
        // Ownership moves from the pipe handle to a SafeFileHandle, the one handle type for fds in this library.
        var client = server.ClientSafePipeHandle;
        var handle = new SafeFileHandle(client.DangerousGetHandle(), ownsHandle: true);
        client.SetHandleAsInvalid();
        return handle;
    }
}
