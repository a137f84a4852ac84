namespace Containers.Security.Seccomp;

/// <summary>
/// What a filter does with a system call, as the kernel's <c>SECCOMP_RET_*</c> return value (linux/seccomp.h): the
/// action in the high 16 bits, its data (an errno, a trace message) in the low 16.
/// </summary>
internal static class SeccompAction
{
    public const uint KillProcess = 0x80000000;
    public const uint KillThread = 0x00000000;
    public const uint Trap = 0x00030000;
    public const uint Errno = 0x00050000;
    public const uint UserNotif = 0x7fc00000;
    public const uint Trace = 0x7ff00000;
    public const uint Log = 0x7ffc0000;
    public const uint Allow = 0x7fff0000;

    /// <summary>The mask of the action part of a return value.</summary>
    public const uint ActionMask = 0xffff0000;

    public const uint Eperm = 1;
    public const uint Enosys = 38;

    /// <summary>
    /// The return value of the OCI action <paramref name="name"/>; <paramref name="errnoRet"/> is the errno of
    /// <c>SCMP_ACT_ERRNO</c> (EPERM when absent) and the message of <c>SCMP_ACT_TRACE</c>. <c>SCMP_ACT_KILL</c>
    /// kills the thread, as libseccomp defines it.
    /// </summary>
    public static uint FromOci(string name, uint? errnoRet) => name switch
    {
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => KillThread,
        "SCMP_ACT_KILL_PROCESS" => KillProcess,
        "SCMP_ACT_TRAP" => Trap,
        "SCMP_ACT_ERRNO" => Errno | ((errnoRet ?? Eperm) & 0xffff),
        "SCMP_ACT_TRACE" => Trace | ((errnoRet ?? Eperm) & 0xffff),
        "SCMP_ACT_ALLOW" => Allow,
        "SCMP_ACT_LOG" => Log,
        "SCMP_ACT_NOTIFY" => UserNotif,
        _ => throw new ArgumentException($"unknown seccomp action '{name}'", nameof(name)),
    };

    /// <summary>Whether the return value lets the call run (allow, or allow and log).</summary>
    public static bool Runs(uint action) => (action & ActionMask) is Allow or Log;
}
