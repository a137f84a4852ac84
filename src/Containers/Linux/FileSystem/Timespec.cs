using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary><c>struct timespec</c> on 64-bit Linux, as utimensat(2) takes it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}
