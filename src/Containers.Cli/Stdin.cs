using System.Runtime.InteropServices;

namespace Containers.Cli;

/// <summary>This process's standard input, which a foreground container inherits.</summary>
internal static partial class Stdin
{
    /// <summary>
    /// Points fd 0 at <c>/dev/null</c>, so a container started without <c>-i</c> reads nothing from the terminal or
    /// pipe this command was given, as with Docker.
    /// </summary>
    public static void DetachFromContainer()
    {
        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        if (Dup2(devNull.DangerousGetHandle().ToInt32(), 0) < 0)
        {
            throw new IOException($"dup2(/dev/null, 0) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);
}
