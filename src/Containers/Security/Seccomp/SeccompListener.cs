using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Security.Seccomp;

/// <summary>
/// Answers the notifications of one filter's listener fd (<c>SECCOMP_FILTER_FLAG_NEW_LISTENER</c>) with a
/// <see cref="SeccompNotifyHandler"/> until every process under the filter has ended or it is disposed. Waiting is
/// an await on the fd becoming readable; a handler that throws denies the call with EPERM.
/// </summary>
internal sealed partial class SeccompListener : IAsyncDisposable
{
    private const uint IoctlNotifRecv = 0xC0502100; // _IOWR('!', 0, struct seccomp_notif)
    private const uint IoctlNotifSend = 0xC0182101; // _IOWR('!', 1, struct seccomp_notif_resp)
    private const uint FlagContinue = 1;
    private const short PollIn = 0x1;
    private const short PollHup = 0x10;
    private const short PollErr = 0x8;

    private readonly SafeFileHandle _listener;
    private readonly SeccompNotifyHandler _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public SeccompListener(SafeFileHandle listener, SeccompNotifyHandler handler)
    {
        _listener = listener;
        _handler = handler;
        _loop = Task.Run(LoopAsync);
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoctlRaw(int fd, nuint request, void* argument);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint count, int timeout);

    internal static unsafe int Ioctl(SafeFileHandle fd, uint request, void* argument)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            return IoctlRaw((int)fd.DangerousGetHandle(), request, argument);
        }
        finally
        {
            fd.DangerousRelease();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await FdPoller.WaitReadableAsync(_listener, _stop.Token).ConfigureAwait(false);
            var state = Poll();
            if ((state & PollIn) != 0)
            {
                AnswerOne();
            }
            else if ((state & (PollHup | PollErr)) != 0)
            {
                return; // no process is under the filter any more
            }
        }
    }

    private unsafe short Poll()
    {
        var added = false;
        _listener.DangerousAddRef(ref added);
        try
        {
            var fd = new PollFd { Fd = (int)_listener.DangerousGetHandle(), Events = PollIn };
            return poll(&fd, 1, 0) > 0 ? fd.Revents : (short)0;
        }
        finally
        {
            _listener.DangerousRelease();
        }
    }

    private unsafe void AnswerOne()
    {
        var notif = default(Notif); // the kernel refuses a buffer that is not zeroed
        if (Ioctl(_listener, IoctlNotifRecv, &notif) < 0)
        {
            return; // ENOENT: the caller died or the call was interrupted before we took it
        }

        var args = new ulong[6];
        for (int i = 0; i < 6; i++)
        {
            args[i] = notif.Args[i];
        }

        SeccompNotifyResponse answer;
        try
        {
            answer = _handler(new SeccompNotification(_listener, notif.Id, (int)notif.Pid, notif.Nr, notif.Arch, notif.InstructionPointer, args));
        }
#pragma warning disable CA1031 // a handler's failure must not leave the caller stopped forever: it is denied
        catch (Exception)
#pragma warning restore CA1031
        {
            answer = SeccompNotifyResponse.Deny(1);
        }

        var response = new Response
        {
            Id = notif.Id,
            Value = answer.Value,
            Error = -answer.Error,
            Flags = answer.Continues ? FlagContinue : 0,
        };
        Ioctl(_listener, IoctlNotifSend, &response); // ENOENT: the caller is gone, nothing to answer
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary><c>struct seccomp_notif</c> with its <c>struct seccomp_data</c> (80 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Notif
    {
        public ulong Id;
        public uint Pid;
        public uint Flags;
        public int Nr;
        public uint Arch;
        public ulong InstructionPointer;
        public fixed ulong Args[6];
    }

    /// <summary><c>struct seccomp_notif_resp</c> (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Response
    {
        public ulong Id;
        public long Value;
        public int Error;
        public uint Flags;
    }
}
