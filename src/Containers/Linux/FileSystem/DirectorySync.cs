using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary>
/// <c>fsync</c> of a directory, so that a rename into it survives a crash. .NET cannot open a directory as a file,
/// hence the direct calls.
/// </summary>
internal static class DirectorySync
{
    public static void Sync(string directory)
    {
        using var handle = DirectoryTree.OpenDirectory(directory);
        if (handle.IsInvalid)
        {
            throw new IOException($"open {directory}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        if (FileSystemCalls.Fsync(handle) != 0)
        {
            throw new IOException($"fsync {directory}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }
}
