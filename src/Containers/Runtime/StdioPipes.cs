using System.IO.Pipelines;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// Three pipes for a container's stdio. The child's ends are handed to the plan (duplicated onto 0, 1 and 2 in the
/// child) and closed here once the child has them, so end-of-file reaches each side when the other closes.
/// Output is read from the start into an in-process buffer of up to <see cref="BufferedOutputBytes"/> per stream,
/// so a program that writes less than that never blocks on a full kernel pipe (64 KiB) while nobody reads; one that
/// writes more blocks, as on any pipe, until the caller reads.
/// </summary>
/// <remarks>
/// Output is read without holding a thread: the read ends are non-blocking and the process-wide
/// <see cref="FdPoller"/> says when they are readable. A stream over an anonymous pipe has no asynchronous reads on
/// Linux (its ReadAsync blocks a pool thread in read(2)), so two pool threads per container waited for output for
/// the container's whole life, and many containers at once starved the pool.
/// </remarks>
internal sealed class StdioPipes : IAsyncDisposable
{
    /// <summary>How much output per stream is read ahead of the caller before the program is made to wait.</summary>
    public const int BufferedOutputBytes = 1 << 20;

    /// <summary>The most one read takes: a whole kernel pipe buffer.</summary>
    private const int ReadSize = 64 << 10;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pumps;
    private readonly AnonymousPipeServerStream _stdin;
    private readonly SafeFileHandle _stdout;
    private readonly SafeFileHandle _stderr;

    private StdioPipes(AnonymousPipeServerStream stdin, (SafeFileHandle Read, SafeFileHandle Write) stdout, (SafeFileHandle Read, SafeFileHandle Write) stderr,
        FdPoller.ExitGroup? exitGroup)
    {
        _stdin = stdin;
        _stdout = stdout.Read;
        _stderr = stderr.Read;
        ChildStdin = TakeClientEnd(stdin);
        ChildStdout = stdout.Write;
        ChildStderr = stderr.Write;
        Stdin = PipeWriter.Create(stdin, new StreamPipeWriterOptions(leaveOpen: false));
        var stdoutBuffer = NewBuffer();
        var stderrBuffer = NewBuffer();
        Stdout = stdoutBuffer.Reader;
        Stderr = stderrBuffer.Reader;
        _pumps = Task.WhenAll(PumpAsync(_stdout, stdoutBuffer.Writer, exitGroup, _stop.Token), PumpAsync(_stderr, stderrBuffer.Writer, exitGroup, _stop.Token));
    }

    public SafeFileHandle ChildStdin { get; }

    public SafeFileHandle ChildStdout { get; }

    public SafeFileHandle ChildStderr { get; }

    public PipeWriter Stdin { get; }

    public PipeReader Stdout { get; }

    public PipeReader Stderr { get; }

    /// <param name="exitGroup">
    /// For an owner that reads the output only up to the process's exit: the outputs' end of file may wait for the
    /// exit and arrive with it (<see cref="FdPoller.ExitGroup"/>). Null: each end of file arrives when it happens.
    /// </param>
    public static StdioPipes Create(FdPoller.ExitGroup? exitGroup = null)
    {
        // Close-on-exec on every end, so a Process.Start elsewhere in this process cannot inherit them and hold a
        // pipe open; the plan's dup2 onto 0-2 clears the flag in the child. Only this process's read ends are
        // non-blocking: the flag belongs to the open pipe end, and the child's ends must block as any program expects.
        AnonymousPipeServerStream? stdin = null;
        (SafeFileHandle Read, SafeFileHandle Write)? stdout = null;
        try
        {
            stdin = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
            stdout = NonBlockingReadPipe();
            var stderr = NonBlockingReadPipe();
            return new StdioPipes(stdin, stdout.Value, stderr, exitGroup);
        }
        catch
        {
            stdin?.Dispose();
            stdout?.Read.Dispose();
            stdout?.Write.Dispose();
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
        _stdout.Dispose();
        _stderr.Dispose();
    }

    // The reader goes on inline, on the pump's thread (a pool thread already), when output or end of file arrives,
    // rather than waking another pool thread for every read.
    private static Pipe NewBuffer() => new(new System.IO.Pipelines.PipeOptions(
        readerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: BufferedOutputBytes, resumeWriterThreshold: BufferedOutputBytes / 2, useSynchronizationContext: false));

    private static (SafeFileHandle Read, SafeFileHandle Write) NonBlockingReadPipe()
    {
        var (read, write) = LibC.Pipe();
        var fd = (int)read.DangerousGetHandle();
        var flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0 || LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            read.Dispose();
            write.Dispose();
            throw new ContainersException($"making an output pipe non-blocking failed: {Errno.Name(errno)}");
        }

        return (read, write);
    }

    /// <summary>Moves one stream's output into its buffer until end of file; the reader sees end of file or the read error.</summary>
    private static async Task PumpAsync(SafeFileHandle source, PipeWriter buffer, FdPoller.ExitGroup? exitGroup, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var n = Read(source, buffer.GetMemory(ReadSize));
                if (n > 0)
                {
                    buffer.Advance(n);
                    var flushed = await buffer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        break;
                    }

                    continue;
                }

                if (n == 0)
                {
                    break;
                }

                var errno = -n;
                if (errno == Errno.EAGAIN)
                {
                    await (exitGroup is null
                        ? FdPoller.WaitReadableAsync(source, cancellationToken)
                        : FdPoller.WaitReadableAsync(source, exitGroup, cancellationToken)).ConfigureAwait(false);
                }
                else if (errno != Errno.EINTR)
                {
                    throw new IOException($"reading the container's output failed: {Errno.Name(errno)}");
                }
            }

            await buffer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await buffer.CompleteAsync(e is OperationCanceledException ? null : e).ConfigureAwait(false);
        }
    }

    /// <summary>One read(2) into <paramref name="memory"/>: the byte count, 0 at end of file, or -errno.</summary>
    private static unsafe int Read(SafeFileHandle source, Memory<byte> memory)
    {
        var added = false;
        source.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = memory.Span)
            {
                var n = LibC.read((int)source.DangerousGetHandle(), p, Math.Min(memory.Length, ReadSize));
                return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
            }
        }
        finally
        {
            source.DangerousRelease();
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
