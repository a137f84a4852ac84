using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary><c>struct timespec</c> on 64-bit Linux, as utimensat(2) takes it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    /// <summary>tv_nsec value that leaves the timestamp unchanged.</summary>
    public const long UtimeOmit = (1L << 30) - 2;

    public long Seconds;
    public long Nanoseconds;
}
