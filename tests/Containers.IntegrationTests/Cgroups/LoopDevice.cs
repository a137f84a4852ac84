using System.Diagnostics;

namespace Containers.IntegrationTests.Cgroups;

/// <summary>
/// A loop device over a sparse file on tmpfs (<c>/dev/shm</c>): a real block device the I/O controllers throttle,
/// that touches no disk. Disposing detaches it and removes the file.
/// </summary>
internal sealed class LoopDevice : IDisposable
{
    private readonly string _file;

    private LoopDevice(string file, string path)
    {
        _file = file;
        Path = path;
    }

    /// <summary>The device node, such as <c>/dev/loop3</c>.</summary>
    public string Path { get; }

    /// <summary>The device's queue settings in sysfs (<c>/sys/block/loop3/queue</c>).</summary>
    private string Queue => $"/sys/block/{System.IO.Path.GetFileName(Path)}/queue";

    /// <summary>
    /// Makes <paramref name="name"/> (such as <c>bfq</c>) the device's I/O scheduler; false when the kernel does not
    /// offer it for this device (<c>queue/scheduler</c> lists what it offers). Disposing sets <c>none</c> back, the
    /// scheduler a loop device starts with, before the device is detached and taken by the next user.
    /// </summary>
    public bool TrySetScheduler(string name)
    {
        var offered = File.ReadAllText($"{Queue}/scheduler").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!offered.Any(s => s.Trim('[', ']') == name))
        {
            return false;
        }

        File.WriteAllText($"{Queue}/scheduler", name);
        return true;
    }

    /// <summary>Writes one of the scheduler's tunables (<c>queue/iosched/NAME</c>).</summary>
    public void SetSchedulerTunable(string name, string value) => File.WriteAllText($"{Queue}/iosched/{name}", value);

    /// <summary>What the device's scheduler list says (<c>none [bfq]</c>: the one in brackets is in use).</summary>
    public string Schedulers => File.ReadAllText($"{Queue}/scheduler").Trim();

    public static LoopDevice Create(long bytes)
    {
        var file = System.IO.Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath(), $"containers-loop-{Guid.NewGuid():N}");
        using (var stream = File.Create(file))
        {
            stream.SetLength(bytes);
        }

        try
        {
            return new LoopDevice(file, Losetup("--find", "--show", file).Trim());
        }
        catch
        {
            File.Delete(file);
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            try
            {
                File.WriteAllText($"{Queue}/scheduler", "none");
            }
            catch (IOException)
            {
                // The kernel has no "none" for it: the device keeps what it had; detaching still frees it.
            }

            Losetup("--detach", Path);

            // The kernel detaches when the last opener has closed the device, which may be a moment after the
            // container's processes died: wait for it, so that no test leaves a loop device behind.
            var backing = $"/sys/block/{System.IO.Path.GetFileName(Path)}/loop/backing_file";
            var deadline = DateTime.UtcNow + Support.TestTime.Scale(TimeSpan.FromSeconds(10));
            while (File.Exists(backing) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
        finally
        {
            File.Delete(_file);
        }
    }

    private static string Losetup(params string[] args)
    {
        var start = new ProcessStartInfo("losetup") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"losetup {string.Join(' ', args)}: {error}");
    }
}
