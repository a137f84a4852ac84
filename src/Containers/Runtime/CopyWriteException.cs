namespace Containers.Runtime;

/// <summary>
/// A copy could not write an entry at its destination because of where it writes, not what it copies: the
/// filesystem is full (<c>ENOSPC</c>: no space or no inodes left), the user's disk quota is spent (<c>EDQUOT</c>), or
/// the device failed (<c>EIO</c>). Raised once what the copy had made is removed and what it replaced is put back (a
/// copy is all or nothing); the message names the entry and what to fix.
/// </summary>
/// <example>
/// <code>
/// try { await container.CopyToAsync("./dataset", "/data", cancellationToken: ct); }
/// catch (CopyWriteException e) when (e.ErrnoName == "ENOSPC") { Console.Error.WriteLine($"{e.Path}: {e.Message}"); }
/// </code>
/// </example>
public sealed class CopyWriteException : ContainersIOException
{
    /// <summary>Creates the error for the entry <paramref name="path"/> that could not be written (errno <paramref name="errnoName"/>).</summary>
    public CopyWriteException(string path, string errnoName, string problem)
        : base($"cannot write '{path}': {errnoName}: {problem}; nothing of the copy was left behind", path, null)
    {
        ErrnoName = errnoName;
    }

    /// <summary>The kernel's name of the error: <c>ENOSPC</c>, <c>EDQUOT</c> or <c>EIO</c>.</summary>
    public string ErrnoName { get; }

    /// <summary>Whether <paramref name="errno"/> is one of the destination's faults this type reports.</summary>
    internal static bool Covers(int errno) => errno is Linux.Errno.ENOSPC or Linux.Errno.EDQUOT or Linux.Errno.EIO;

    /// <summary>The error for <paramref name="errno"/> (one <see cref="Covers"/> accepts) while writing <paramref name="path"/>.</summary>
    internal static CopyWriteException For(int errno, string path) => errno switch
    {
        Linux.Errno.ENOSPC => new(path, "ENOSPC", "the destination's filesystem is full (no space or no inodes left): free space there, or give it a larger size (a tmpfs's size=), and copy again"),
        Linux.Errno.EDQUOT => new(path, "EDQUOT", "the disk quota of the destination's owner is spent: free space within the quota, or raise it, and copy again"),
        _ => new(path, "EIO", "the destination's device failed to write (see the kernel log, dmesg): check the device, then copy again"),
    };
}
