namespace Containers.Security.Seccomp;

/// <summary>Classic BPF (linux/filter.h, linux/bpf_common.h): the instruction codes a seccomp filter uses.</summary>
internal static class Bpf
{
    public const ushort Ld = 0x00;
    public const ushort Alu = 0x04;
    public const ushort Jmp = 0x05;
    public const ushort Ret = 0x06;
    public const ushort W = 0x00;
    public const ushort Abs = 0x20;
    public const ushort Ja = 0x00;
    public const ushort Jeq = 0x10;
    public const ushort Jgt = 0x20;
    public const ushort Jge = 0x30;
    public const ushort And = 0x50;
    public const ushort K = 0x00;

    /// <summary>The most instructions the kernel takes in one filter (BPF_MAXINSNS).</summary>
    public const int MaxInstructions = 4096;

    /// <summary>Offsets in <c>struct seccomp_data</c>: nr, arch, then args[6] of 8 bytes each from 16.</summary>
    public const uint OffsetNr = 0;
    public const uint OffsetArch = 4;

    /// <summary>The offset of the low (<paramref name="high"/> false) or high word of argument <paramref name="index"/>, little-endian.</summary>
    public static uint OffsetArg(uint index, bool high) => 16 + (8 * index) + (high ? 4u : 0u);
}

/// <summary>One <c>struct sock_filter</c>: code, two 8-bit jump offsets and a 32-bit constant.</summary>
internal readonly record struct BpfInstruction(ushort Code, byte Jt, byte Jf, uint K)
{
    /// <summary>The instruction as the kernel reads it (8 bytes, little-endian).</summary>
    public void WriteTo(Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(destination, Code);
        destination[2] = Jt;
        destination[3] = Jf;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], K);
    }

    /// <summary>The instruction <see cref="WriteTo"/> wrote into <paramref name="source"/>.</summary>
    public static BpfInstruction ReadFrom(ReadOnlySpan<byte> source) => new(
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(source),
        source[2],
        source[3],
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));
}
