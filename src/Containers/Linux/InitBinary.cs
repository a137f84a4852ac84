using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// containers-init (src/Containers.Native/init), loaded once per process into a sealed memfd: what an EXEC through
/// it runs (plan.h, "containers-init"). Sealed against write, grow and shrink, so a container that finds it as a
/// process's <c>/proc/PID/exe</c> cannot change it; close-on-exec, so it is gone from every program.
/// </summary>
internal static class InitBinary
{
    private static readonly Lazy<SafeFileHandle> Memfd = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The memfd; the same handle for the life of the process.</summary>
    /// <exception cref="ContainersException">The memfd could not be created or sealed.</exception>
    public static SafeFileHandle Fd => Memfd.Value;

    private static SafeFileHandle Load()
    {
        var fd = Shim.InitBinary();
        if (fd < 0)
        {
            throw new ContainersException($"loading containers-init into a sealed memfd failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
