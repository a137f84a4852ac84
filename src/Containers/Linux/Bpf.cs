using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// The few bpf(2) commands a cgroup device program needs: load a program, attach it to a cgroup, list what is
/// attached there, open an attached program by id and detach it. Each failure throws a <see cref="ContainersException"/> with
/// errno's name (and, for a load, the verifier's log).
/// </summary>
internal static unsafe partial class Bpf
{
    /// <summary><c>BPF_PROG_TYPE_CGROUP_DEVICE</c>.</summary>
    public const uint ProgramTypeCgroupDevice = 15;

    /// <summary><c>BPF_CGROUP_DEVICE</c>, the attach type of a device program.</summary>
    public const uint AttachCgroupDevice = 6;

    /// <summary><c>BPF_F_ALLOW_MULTI</c>: the program runs beside those of the cgroup's ancestors, and all must allow.</summary>
    public const uint AllowMulti = 2;

    private const int ProgLoad = 5;
    private const int ProgAttach = 8;
    private const int ProgDetach = 9;
    private const int ProgGetFdById = 13;
    private const int ProgQuery = 16;

    // union bpf_attr is larger than any command's part of it; the kernel takes a shorter one whose tail is zero.
    private const int AttrSize = 128;

    private static long SysBpf => RuntimeInformation.ProcessArchitecture is Architecture.X64 ? 321 : 280;

    /// <summary>Loads <paramref name="instructions"/> (8 bytes each, little-endian) as a program of <paramref name="type"/>.</summary>
    public static SafeFileHandle Load(uint type, ReadOnlySpan<ulong> instructions, string license, string name)
    {
        var licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        fixed (ulong* insns = instructions)
        fixed (byte* lic = licenseBytes)
        {
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            *(uint*)attr = type;
            *(uint*)(attr + 4) = (uint)instructions.Length;
            *(ulong*)(attr + 8) = (ulong)insns;
            *(ulong*)(attr + 16) = (ulong)lic;
            // prog_name: up to 15 characters of [A-Za-z0-9_.], shown by bpftool.
            var nameBytes = Encoding.ASCII.GetBytes(name);
            nameBytes.AsSpan(0, Math.Min(nameBytes.Length, 15)).CopyTo(new Span<byte>(attr + 48, 15));
            var fd = Syscall(SysBpf, ProgLoad, attr, AttrSize);
            if (fd >= 0)
            {
                return new SafeFileHandle((nint)fd, ownsHandle: true);
            }

            var errno = Marshal.GetLastPInvokeError();
            // Again with the verifier's log, which says which instruction it refused and why.
            var log = new byte[64 * 1024];
            fixed (byte* logBuffer = log)
            {
                *(uint*)(attr + 24) = 1;
                *(uint*)(attr + 28) = (uint)log.Length;
                *(ulong*)(attr + 32) = (ulong)logBuffer;
                var retry = Syscall(SysBpf, ProgLoad, attr, AttrSize);
                if (retry >= 0)
                {
                    return new SafeFileHandle((nint)retry, ownsHandle: true);
                }
            }

            var text = Encoding.ASCII.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0))).Trim();
            throw Failure("loading a BPF program", errno, text);
        }
    }

    /// <summary>Attaches <paramref name="program"/> to the cgroup directory <paramref name="cgroup"/>.</summary>
    public static void Attach(SafeFileHandle cgroup, SafeFileHandle program, uint attachType, uint flags) =>
        AttachOrDetach(ProgAttach, cgroup, program, attachType, flags, "attaching a BPF program to a cgroup");

    /// <summary>Detaches <paramref name="program"/> from the cgroup directory <paramref name="cgroup"/>.</summary>
    public static void Detach(SafeFileHandle cgroup, SafeFileHandle program, uint attachType) =>
        AttachOrDetach(ProgDetach, cgroup, program, attachType, 0, "detaching a BPF program from a cgroup");

    /// <summary>The ids of the programs of <paramref name="attachType"/> attached to the cgroup itself (not its ancestors').</summary>
    public static uint[] Query(SafeFileHandle cgroup, uint attachType)
    {
        var ids = new uint[64];
        var added = false;
        try
        {
            cgroup.DangerousAddRef(ref added);
            fixed (uint* idBuffer = ids)
            {
                var attr = stackalloc byte[AttrSize];
                new Span<byte>(attr, AttrSize).Clear();
                *(uint*)attr = (uint)cgroup.DangerousGetHandle();
                *(uint*)(attr + 4) = attachType;
                *(ulong*)(attr + 16) = (ulong)idBuffer;
                *(uint*)(attr + 24) = (uint)ids.Length;
                if (Syscall(SysBpf, ProgQuery, attr, AttrSize) < 0)
                {
                    throw Failure("listing a cgroup's BPF programs", Marshal.GetLastPInvokeError(), null);
                }

                return ids.AsSpan(0, (int)*(uint*)(attr + 24)).ToArray();
            }
        }
        finally
        {
            if (added)
            {
                cgroup.DangerousRelease();
            }
        }
    }

    /// <summary>Opens the loaded program with <paramref name="id"/>.</summary>
    public static SafeFileHandle OpenProgram(uint id)
    {
        var attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        *(uint*)attr = id;
        var fd = Syscall(SysBpf, ProgGetFdById, attr, AttrSize);
        return fd >= 0
            ? new SafeFileHandle((nint)fd, ownsHandle: true)
            : throw Failure($"opening BPF program {id}", Marshal.GetLastPInvokeError(), null);
    }

    private static void AttachOrDetach(int command, SafeFileHandle cgroup, SafeFileHandle program, uint attachType, uint flags, string what)
    {
        bool cgroupAdded = false, programAdded = false;
        try
        {
            cgroup.DangerousAddRef(ref cgroupAdded);
            program.DangerousAddRef(ref programAdded);
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            *(uint*)attr = (uint)cgroup.DangerousGetHandle();
            *(uint*)(attr + 4) = (uint)program.DangerousGetHandle();
            *(uint*)(attr + 8) = attachType;
            *(uint*)(attr + 12) = flags;
            if (Syscall(SysBpf, command, attr, AttrSize) < 0)
            {
                throw Failure(what, Marshal.GetLastPInvokeError(), null);
            }
        }
        finally
        {
            if (programAdded)
            {
                program.DangerousRelease();
            }

            if (cgroupAdded)
            {
                cgroup.DangerousRelease();
            }
        }
    }

    private static ContainersException Failure(string what, int errno, string? verifierLog) =>
        new($"{what} failed: {Errno.Name(errno)}" + (string.IsNullOrEmpty(verifierLog) ? "" : $" (the verifier's log: {verifierLog})"));

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int command, byte* attr, uint size);
}
