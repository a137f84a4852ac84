using System.Diagnostics;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.IntegrationTests.Linux;

/// <summary>
/// A run's output pipes and its pidfd share one wake-up at the exit: an output at end of file waits for the exit and
/// completes on the exit's thread, before the exit's waiter; data, and an end of file after the exit, do not wait.
/// </summary>
public sealed class FdPollerExitGroupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task An_output_at_end_of_file_completes_with_the_exit_on_its_thread_before_the_exit_is_seen()
    {
        using var process = StartSleeper();
        using var pidfd = PidFdOf(process);
        var group = new FdPoller.ExitGroup();
        var (read, write) = LibC.Pipe();
        using (read)
        {
            write.Dispose();
            var pipeThread = 0;
            var output = FdPoller.WaitReadableAsync(read, group, Ct)
                .ContinueWith(_ => pipeThread = Environment.CurrentManagedThreadId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var exitThread = 0;
            var outputDoneAtExit = false;
            var exit = FdPoller.WaitExitAsync(pidfd, group).ContinueWith(_ =>
            {
                exitThread = Environment.CurrentManagedThreadId;
                outputDoneAtExit = output.IsCompleted;
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            // The end of file is there, the exit is not: the output's wait is held back.
            await WaitUntilHeldAsync(group);
            Assert.False(output.IsCompleted);

            process.Kill();
            await exit.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            await output.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.True(outputDoneAtExit, "the exit's waiter ran before the held output completed");
            Assert.Equal(exitThread, pipeThread);
        }

        await process.WaitForExitAsync(Ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task Output_data_from_a_writer_still_there_completes_without_waiting_for_the_exit()
    {
        using var process = StartSleeper();
        using var pidfd = PidFdOf(process);
        var group = new FdPoller.ExitGroup();
        var exit = FdPoller.WaitExitAsync(pidfd, group);
        var (read, write) = LibC.Pipe();
        using (read)
        using (write)
        {
            var output = FdPoller.WaitReadableAsync(read, group, Ct);
            WriteByte(write);
            await output.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.False(exit.IsCompleted);
        }

        process.Kill();
        await exit.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await process.WaitForExitAsync(Ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_end_of_file_after_the_exit_completes_on_its_own()
    {
        using var process = StartSleeper();
        using var pidfd = PidFdOf(process);
        var group = new FdPoller.ExitGroup();
        process.Kill();
        await FdPoller.WaitExitAsync(pidfd, group).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // Another process may hold a run's output open past its exit: that end of file is not held for anything.
        var (read, write) = LibC.Pipe();
        using (read)
        {
            var output = FdPoller.WaitReadableAsync(read, group, Ct);
            write.Dispose();
            await output.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await process.WaitForExitAsync(Ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_held_output_wait_is_cancelled_like_any_other()
    {
        using var process = StartSleeper();
        using var pidfd = PidFdOf(process);
        var group = new FdPoller.ExitGroup();
        var (read, write) = LibC.Pipe();
        using (read)
        {
            write.Dispose();
            using var cancel = new CancellationTokenSource();
            var output = FdPoller.WaitReadableAsync(read, group, cancel.Token);
            await WaitUntilHeldAsync(group);
            Assert.False(output.IsCompleted);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => output.WaitAsync(TimeSpan.FromSeconds(30), Ct));

            // The exit still completes, with nothing held left to complete.
            var exit = FdPoller.WaitExitAsync(pidfd, group);
            process.Kill();
            await exit.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await process.WaitForExitAsync(Ct);
    }

    /// <summary>Waits until the poller has seen the end of file and held its wait back (it does so at once, when it runs).</summary>
    private static async Task WaitUntilHeldAsync(FdPoller.ExitGroup group)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (group.HeldCount == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the poller did not hold the output's wait back within 30 s");
            await Task.Delay(10, Ct);
        }
    }

    private static Process StartSleeper() =>
        Process.Start(new ProcessStartInfo("/bin/sleep", "600") { UseShellExecute = false })!;

    private static SafeFileHandle PidFdOf(Process process)
    {
        var fd = Shim.PidFdOpen(process.Id);
        Assert.True(fd >= 0, $"pidfd_open({process.Id}) failed: {Errno.Name(-fd)}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static void WriteByte(SafeFileHandle write)
    {
        // A stream over a borrowed handle: the writer stays open after it.
        using var stream = new FileStream(new SafeFileHandle(write.DangerousGetHandle(), ownsHandle: false), FileAccess.Write, bufferSize: 0);
        stream.WriteByte(1);
    }
}
