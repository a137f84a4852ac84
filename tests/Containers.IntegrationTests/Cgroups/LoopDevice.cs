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
