namespace Containers.Security.Seccomp;

/// <summary>
/// A system call ABI a filter can cover, with the <c>AUDIT_ARCH_*</c> value the kernel puts in
/// <c>seccomp_data.arch</c>. x86_64 and x32 share one audit arch: x32 numbers carry <c>__X32_SYSCALL_BIT</c>.
/// </summary>
internal enum SeccompArchitecture
{
    /// <summary>x86_64 (<c>SCMP_ARCH_X86_64</c>, <c>AUDIT_ARCH_X86_64</c>).</summary>
    X86_64,

    /// <summary>i386, also reachable on x86_64 through <c>int 0x80</c> (<c>SCMP_ARCH_X86</c>, <c>AUDIT_ARCH_I386</c>).</summary>
    I386,

    /// <summary>x32: the x86_64 ABI with 32-bit pointers (<c>SCMP_ARCH_X32</c>), numbers with bit 30 set.</summary>
    X32,

    /// <summary>64-bit ARM (<c>SCMP_ARCH_AARCH64</c>, <c>AUDIT_ARCH_AARCH64</c>).</summary>
    Aarch64,
}

/// <summary>Facts about each <see cref="SeccompArchitecture"/>.</summary>
internal static class SeccompArchitectures
{
    /// <summary><c>__X32_SYSCALL_BIT</c>: set in every x32 system call number.</summary>
    public const uint X32SyscallBit = 0x40000000;

    /// <summary>The <c>AUDIT_ARCH_*</c> value (linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).</summary>
    public static uint AuditArch(SeccompArchitecture arch) => arch switch
    {
        SeccompArchitecture.X86_64 or SeccompArchitecture.X32 => 0xC000003E,
        SeccompArchitecture.I386 => 0x40000003,
        SeccompArchitecture.Aarch64 => 0xC00000B7,
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Whether the ABI's arguments are 32 bits wide (only the low word of each <c>args[i]</c> is meaningful).</summary>
    public static bool Is32Bit(SeccompArchitecture arch) => arch == SeccompArchitecture.I386;

    /// <summary>The ABIs a process on <paramref name="native"/> can call, so a filter for it must cover or refuse each.</summary>
    public static IReadOnlyList<SeccompArchitecture> Reachable(SeccompArchitecture native) => native switch
    {
        SeccompArchitecture.X86_64 => [SeccompArchitecture.X86_64, SeccompArchitecture.I386, SeccompArchitecture.X32],
        SeccompArchitecture.Aarch64 => [SeccompArchitecture.Aarch64],
        _ => [native],
    };

    /// <summary>The architecture this process runs on, or null where this runtime has no system call table for it.</summary>
    public static SeccompArchitecture? Native => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => SeccompArchitecture.X86_64,
        System.Runtime.InteropServices.Architecture.Arm64 => SeccompArchitecture.Aarch64,
        System.Runtime.InteropServices.Architecture.X86 => SeccompArchitecture.I386,
        _ => null,
    };

    /// <summary>The OCI (libseccomp) name's architecture, or null for a name this runtime has no table for.</summary>
    public static SeccompArchitecture? FromOciName(string name) => name switch
    {
        "SCMP_ARCH_X86_64" => SeccompArchitecture.X86_64,
        "SCMP_ARCH_X86" => SeccompArchitecture.I386,
        "SCMP_ARCH_X32" => SeccompArchitecture.X32,
        "SCMP_ARCH_AARCH64" => SeccompArchitecture.Aarch64,
        _ => null,
    };

    /// <summary>The ABI of a call from its <c>seccomp_data.arch</c> and number, or null for one without a table here.</summary>
    public static SeccompArchitecture? FromAuditArch(uint auditArch, uint nr) => auditArch switch
    {
        0xC000003E => (nr & X32SyscallBit) != 0 ? SeccompArchitecture.X32 : SeccompArchitecture.X86_64,
        0x40000003 => SeccompArchitecture.I386,
        0xC00000B7 => SeccompArchitecture.Aarch64,
        _ => null,
    };
}
