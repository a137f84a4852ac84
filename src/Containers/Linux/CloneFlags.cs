namespace Containers.Linux;

/// <summary>The namespace flags of <c>clone3</c>/<c>setns</c> (values from linux/sched.h).</summary>
[Flags]
internal enum CloneFlags : ulong
{
    None = 0,
    NewTime = 0x80,
    NewNs = 0x20000,
    NewCgroup = 0x02000000,
    NewUts = 0x04000000,
    NewIpc = 0x08000000,
    NewUser = 0x10000000,
    NewPid = 0x20000000,
    NewNet = 0x40000000,
}
