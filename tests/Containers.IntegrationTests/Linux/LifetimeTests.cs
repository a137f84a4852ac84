using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.IntegrationTests.Linux;

public sealed class LifetimeTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_child_dies_when_its_launcher_process_is_SIGKILLed()
    {
        using var helper = HelperProcess.Start("launch-and-hang");
        var line = await helper.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken);
        Assert.True(int.TryParse(line, out var pid), $"helper printed '{line}', stderr: {await ReadErrorIfExited(helper)}");
        var fd = Shim.PidFdOpen(pid);
        Assert.True(fd >= 0, $"pidfd_open({pid}) failed: {Errno.Name(-fd)}");
        using var pidfd = new SafeFileHandle(fd, ownsHandle: true);

        // The helper launched from its main thread, which cloned the child itself: no launch thread was made, and
        // the child's parent thread is the one that ends only with the process.
        var threads = Directory.GetDirectories($"/proc/{helper.Id}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).ToList();
        Assert.DoesNotContain(threads, t => t.StartsWith("containers-laun", StringComparison.Ordinal));

        helper.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await FdPoller.WaitReadableAsync(pidfd, timeout.Token); // readable = the process has ended

        Assert.True(IsGoneOrZombie(pid), $"pid {pid} still runs");
        await helper.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    private static bool IsGoneOrZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static async Task<string> ReadErrorIfExited(System.Diagnostics.Process process) =>
        process.HasExited ? await process.StandardError.ReadToEndAsync() : "";
}
