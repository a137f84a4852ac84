using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Cli;

/// <summary>
/// Standard output and error as UTF-8 writers straight onto fds 1 and 2, installed as <see cref="Console.Out"/> and
/// <see cref="Console.Error"/> before a command runs. .NET's own console writers initialise the terminal on their
/// first write: a signal-handling thread with its pipe, handlers for SIGINT, SIGQUIT, SIGCONT, SIGCHLD and SIGWINCH,
/// and on a terminal the terminfo database and its keypad mode. A command that prints a line paid all of that; Docker
/// writes bytes. Commands that need signals (<c>run</c> forwarding them, <c>-t</c> on SIGWINCH) register them
/// themselves, and raw mode is <see cref="HostTerminal"/>'s.
/// </summary>
internal static partial class StandardOutput
{
    /// <summary>Replaces the console's writers (once, at start).</summary>
    public static void Install()
    {
        Console.SetOut(Writer(1));
        Console.SetError(Writer(2));
    }

    // UTF-8 whatever the locale, as Docker; without a byte-order mark. Flushed at every write, as the console's.
    internal static StreamWriter Writer(int fd) =>
        new(new FdStream(fd), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 256, leaveOpen: true) { AutoFlush = true };

    /// <summary>A write-only stream over a file descriptor it does not own.</summary>
    private sealed class FdStream(int fd) : Stream
    {
        private const int EIntr = 4;
        private const int EIo = 5;
        private const int EAgain = 11;
        private const int EPipe = 32;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override unsafe void Write(ReadOnlySpan<byte> buffer)
        {
            fixed (byte* start = buffer)
            {
                var written = 0;
                while (written < buffer.Length)
                {
                    var n = WriteFd(fd, start + written, (nuint)(buffer.Length - written));
                    if (n >= 0)
                    {
                        written += (int)n;
                        continue;
                    }

                    switch (Marshal.GetLastPInvokeError())
                    {
                        case EIntr:
                            continue;
                        case EAgain:
                            // A non-blocking fd handed down by the caller: wait until it takes more.
                            WaitWritable(fd);
                            continue;
                        case EPipe:
                            // The reader went away (`containers ps | head -1`): the rest is dropped, as .NET's console does.
                            return;
                        case EIo:
                            // The terminal hung up (its window was closed): nobody is there to read the rest.
                            return;
                        case var errno:
                            throw new IOException($"writing to fd {fd}: {Marshal.GetPInvokeErrorMessage(errno)}");
                    }
                }
            }
        }

        private static unsafe void WaitWritable(int fd)
        {
            // struct pollfd { int fd; short events; short revents; }, POLLOUT = 4
            var poll = stackalloc int[2];
            poll[0] = fd;
            poll[1] = 4;
            _ = Poll(poll, 1, -1);
        }
    }

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteFd(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(int* fds, nuint count, int timeout);
}
