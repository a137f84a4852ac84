using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.IntegrationTests.Linux;

/// <summary>Hand-built plans for the shim tests: a busybox root on a tmpfs, output captured through a pipe.</summary>
internal static class PlanFixtures
{
    public const string Busybox = "/bin/busybox";

    public static readonly string[] Env = ["PATH=/bin", "HOME=/"];

    /// <summary>
    /// A plan prefix that mounts a tmpfs on <paramref name="dir"/> (a host directory; the mount stays in the child's
    /// private mount namespace), puts busybox and /proc in it and pivots into it.
    /// </summary>
    public static PlanBuilder BusyboxRoot(PlanBuilder plan, string dir, bool pivot = true)
    {
        plan.MakePrivate()
            .Mount("tmpfs", dir, "tmpfs", MountFlags.None, "mode=755", stage: "mount rootfs tmpfs")
            .Root(dir)
            .MakeDirectory("/bin")
            .MakeDirectory("/proc")
            .MakeDirectory("/dev")
            .MakeDirectory("/tmp")
            .WriteFile("/bin/busybox", ReadOnlySpan<byte>.Empty, 0x1ed)
            .Bind(Busybox, "/bin/busybox", recursive: false, readOnly: true)
            .Symlink("busybox", "/bin/sh")
            .Mount("proc", "/proc", "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec);
        return pivot ? plan.PivotRoot().ChangeDirectory("/") : plan;
    }

    /// <summary>Imports slot 1 and makes it the child's stdout and stderr.</summary>
    public static PlanBuilder Output(PlanBuilder plan)
    {
        var output = plan.ImportFd();
        return plan.Dup2(output, 1).Dup2(output, 2);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "containers-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>A launched plan whose stdout/stderr go to one pipe that the test reads to the end.</summary>
internal sealed class CapturedChild : IAsyncDisposable
{
    private readonly Task<string> _output;

    private CapturedChild(ChildProcess child, Task<string> output)
    {
        Child = child;
        _output = output;
    }

    public ChildProcess Child { get; }

    /// <summary>
    /// Launches <paramref name="plan"/> with slot 1 = the write end of an output pipe (the plan imports it
    /// first, see <see cref="PlanFixtures.Output"/>) and any <paramref name="extraFds"/> after it.
    /// </summary>
    public static CapturedChild Launch(Plan plan, params SafeFileHandle[] extraFds)
    {
        var (read, write) = LibC.Pipe();
        ChildProcess child;
        try
        {
            child = ChildProcess.Launch(plan, [write, .. extraFds]);
        }
        catch
        {
            read.Dispose();
            throw;
        }
        finally
        {
            write.Dispose();
        }

        var output = Task.Run(async () =>
        {
            using var stream = new FileStream(read, FileAccess.Read, 1);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync();
        });
        return new CapturedChild(child, output);
    }

    public async Task<(ChildExitStatus Status, string Output)> RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var status = await Child.WaitAsync(timeout.Token);
        var output = await _output.WaitAsync(timeout.Token);
        return (status, output);
    }

    public ValueTask DisposeAsync() => Child.DisposeAsync();
}
