using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Security.Seccomp;

/// <summary>
/// Decides a system call that a seccomp rule with <c>SCMP_ACT_NOTIFY</c> stopped in a container. It runs on a
/// thread of the runtime while the calling thread in the container waits; keep it short.
/// </summary>
/// <param name="notification">The stopped call.</param>
/// <returns>What the call does: <see cref="SeccompNotifyResponse.Allow"/>, <see cref="SeccompNotifyResponse.Deny"/> or <see cref="SeccompNotifyResponse.Return"/>.</returns>
/// <example>
/// <code>
/// // Veto connect() to 10.0.0.1 (the address is read from the caller's memory).
/// SeccompNotifyHandler handler = call =>
/// {
///     Span&lt;byte&gt; address = stackalloc byte[8];
///     return call.SyscallName == "connect" &amp;&amp; call.ReadMemory(call.Arguments[1], address) == 8
///         &amp;&amp; address[4..8].SequenceEqual(new byte[] { 10, 0, 0, 1 })
///         ? SeccompNotifyResponse.Deny(13) // EACCES
///         : SeccompNotifyResponse.Allow;
/// };
/// </code>
/// </example>
public delegate SeccompNotifyResponse SeccompNotifyHandler(SeccompNotification notification);

/// <summary>
/// A system call stopped by a <c>SCMP_ACT_NOTIFY</c> rule (<c>struct seccomp_notif</c>): who made it, which, with
/// what arguments. Pointer arguments point into the caller's memory: read them with <see cref="ReadMemory"/>.
/// </summary>
/// <remarks>
/// Allowing a call lets the kernel run it with the arguments as they are then: another thread of the caller can change
/// the memory a pointer argument points to between the check and the call. Use notifications to log and to refuse
/// calls of cooperative programs; against code that races itself, refuse in the filter (a rule with
/// <c>SCMP_ACT_ERRNO</c>), where only register arguments are compared.
/// </remarks>
public sealed class SeccompNotification
{
    private const uint IoctlNotifIdValid = 0x40082102; // _IOW('!', 2, __u64)
    private readonly SafeFileHandle _listener;

    internal SeccompNotification(SafeFileHandle listener, ulong id, int pid, int syscallNumber, uint arch, ulong instructionPointer, ulong[] arguments)
    {
        _listener = listener;
        Id = id;
        Pid = pid;
        SyscallNumber = syscallNumber;
        AuditArch = arch;
        InstructionPointer = instructionPointer;
        Arguments = arguments;
        SyscallName = SeccompArchitectures.FromAuditArch(arch, (uint)syscallNumber) is { } abi ? SyscallTables.Name(abi, (uint)syscallNumber) : null;
    }

    /// <summary>The caller's process id, as this process sees it.</summary>
    public int Pid { get; }

    /// <summary>The system call's number in the caller's ABI (<see cref="AuditArch"/>).</summary>
    public int SyscallNumber { get; }

    /// <summary>The system call's name, or null for a number this runtime's tables do not know.</summary>
    public string? SyscallName { get; }

    /// <summary>The caller's ABI as an <c>AUDIT_ARCH_*</c> value (x86_64: <c>0xC000003E</c>).</summary>
    public uint AuditArch { get; }

    /// <summary>Where the call was made in the caller.</summary>
    public ulong InstructionPointer { get; }

    /// <summary>The six arguments, as the kernel passes them.</summary>
    public IReadOnlyList<ulong> Arguments { get; }

    internal ulong Id { get; }

    /// <summary>
    /// Reads the caller's memory at <paramref name="address"/> into <paramref name="buffer"/>, then checks the call is
    /// still waiting (so the pid was not reused by another process meanwhile); returns the bytes read.
    /// </summary>
    /// <exception cref="ContainersIOException">The memory cannot be read, or the call is no longer waiting.</exception>
    public unsafe int ReadMemory(ulong address, Span<byte> buffer)
    {
        int read;
        try
        {
            using var memory = File.OpenHandle($"/proc/{Pid}/mem", FileMode.Open, FileAccess.Read);
            read = RandomAccess.Read(memory, buffer, (long)address);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersIOException($"reading the memory of process {Pid} at 0x{address:x} failed: {e.Message}", $"/proc/{Pid}/mem", e);
        }

        ulong id = Id;
        if (SeccompListener.Ioctl(_listener, IoctlNotifIdValid, &id) < 0)
        {
            throw new ContainersIOException($"the system call of process {Pid} is no longer waiting; its memory may not be the caller's", $"/proc/{Pid}/mem", null);
        }

        return read;
    }
}

/// <summary>The answer to a <see cref="SeccompNotification"/> (<c>struct seccomp_notif_resp</c>).</summary>
public readonly record struct SeccompNotifyResponse
{
    private SeccompNotifyResponse(bool continues, int error, long value)
    {
        Continues = continues;
        Error = error;
        Value = value;
    }

    /// <summary>The kernel runs the call (<c>SECCOMP_USER_NOTIF_FLAG_CONTINUE</c>).</summary>
    public static SeccompNotifyResponse Allow { get; } = new(true, 0, 0);

    /// <summary>Whether the kernel runs the call.</summary>
    public bool Continues { get; }

    /// <summary>The errno the call fails with, or 0.</summary>
    public int Error { get; }

    /// <summary>The call's return value when it neither runs nor fails (emulated by the handler).</summary>
    public long Value { get; }

    /// <summary>The call fails with <paramref name="errno"/> (positive, for example 1 for EPERM) without running.</summary>
    public static SeccompNotifyResponse Deny(int errno) =>
        errno > 0 ? new(false, errno, 0) : throw new ArgumentOutOfRangeException(nameof(errno), "an errno is positive");

    /// <summary>The call returns <paramref name="value"/> without running: the handler did its work.</summary>
    public static SeccompNotifyResponse Return(long value) => new(false, 0, value);
}
