using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Containers.Linux;

namespace Containers.Tests.Linux;

/// <summary>A plan read back from its wire bytes (plan.h), for tests that check which ops a compiler emitted.</summary>
internal sealed record DecodedPlan(CloneFlags CloneFlags, PlanFlags Flags, IReadOnlyList<DecodedOp> Ops)
{
    /// <summary>Every op as one line of text (see <see cref="DecodedOp.ToString"/>).</summary>
    public IReadOnlyList<string> Lines => [.. Ops.Select(o => o.ToString())];
}

/// <summary>One op: its code, flags, stage and arguments rendered as text in plan.h's column order.</summary>
internal sealed record DecodedOp(PlanOpCode Code, PlanOpFlags Flags, string Stage, IReadOnlyList<string> Args)
{
    /// <summary>"Code arg arg [Flags]", for example <c>Bind /usr /usr ReadOnly [Recursive]</c>; an absent string is "-".</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Code.ToString());
        foreach (var arg in Args)
        {
            text.Append(' ').Append(arg);
        }

        if (Flags != PlanOpFlags.None)
        {
            text.Append(" [").Append(FlagText(Flags)).Append(']');
        }

        return text.ToString();
    }

    internal static string FlagText<T>(T flags)
        where T : struct, Enum => flags.ToString().Replace(", ", "|", StringComparison.Ordinal);
}

/// <summary>
/// Decodes the bytes <see cref="PlanBuilder"/> encodes, checking every offset as the shim does, and renders each
/// op's arguments by the op table in plan.h (strings, string lists, u32 lists, byte blobs, numbers).
/// </summary>
internal static class PlanDecoder
{
    public static DecodedPlan Decode(Plan plan)
    {
        var bytes = plan.Bytes.Span;
        Assert.Equal(PlanLayout.Magic, U32(bytes, PlanLayout.HeaderMagic));
        Assert.Equal((uint)bytes.Length, U32(bytes, PlanLayout.HeaderPlanSize));
        var count = (int)U32(bytes, PlanLayout.HeaderOpCount);
        var flags = (PlanFlags)U32(bytes, PlanLayout.HeaderFlags);
        var cloneFlags = (CloneFlags)BinaryPrimitives.ReadUInt64LittleEndian(bytes[PlanLayout.HeaderCloneFlags..]);
        var ops = new List<DecodedOp>(count);
        for (var i = 0; i < count; i++)
        {
            var op = bytes.Slice(PlanLayout.HeaderSize + (i * PlanLayout.OpSize), PlanLayout.OpSize);
            var code = (PlanOpCode)U32(op, PlanLayout.OpCode);
            var s = new uint[4];
            var n = new ulong[4];
            for (var k = 0; k < 4; k++)
            {
                s[k] = U32(op, PlanLayout.OpStrings + (4 * k));
                n[k] = BinaryPrimitives.ReadUInt64LittleEndian(op[(PlanLayout.OpNumbers + (8 * k))..]);
            }

            var stage = Str(bytes, U32(op, PlanLayout.OpStage));
            ops.Add(new DecodedOp(code, (PlanOpFlags)U32(op, PlanLayout.OpFlags), stage, Args(bytes, code, s, n)));
        }

        return new DecodedPlan(cloneFlags, flags, ops);
    }

    private static string[] Args(ReadOnlySpan<byte> plan, PlanOpCode code, uint[] s, ulong[] n) => code switch
    {
        PlanOpCode.Mount => [Str(plan, s[0]), Str(plan, s[1]), Str(plan, s[2]), Str(plan, s[3]), DecodedOp.FlagText((MountFlags)n[0])],
        PlanOpCode.Bind => [Str(plan, s[0]), Str(plan, s[1]), DecodedOp.FlagText((MountAttributes)n[0])],
        PlanOpCode.MakeDirectory => [Str(plan, s[0]), Octal(n[0])],
        PlanOpCode.MakeNode => [Str(plan, s[0]), Octal(n[0]), $"{n[1]}:{n[2]}"],
        PlanOpCode.Symlink => [Str(plan, s[0]), Str(plan, s[1])],
        PlanOpCode.UnmountDetach or PlanOpCode.SetHostname or PlanOpCode.ChangeDirectory or PlanOpCode.Root => [Str(plan, s[0])],
        PlanOpCode.MakePrivate => [Str(plan, s[0]), DecodedOp.FlagText((MountFlags)n[0])],
        PlanOpCode.SetRlimit => [Num(n[0]), Num(n[1]), Num(n[2])],
        PlanOpCode.SetGroups or PlanOpCode.CloseRange => [$"[{string.Join(',', U32List(plan, s[0]))}]"],
        PlanOpCode.SetResGid or PlanOpCode.SetResUid => [Num(n[0]), Num(n[1]), Num(n[2])],
        PlanOpCode.Umask => [Octal(n[0])],
        PlanOpCode.Prctl => [Num(n[0]), Num(n[1]), Num(n[2]), Num(n[3])],
        PlanOpCode.WriteFile => [Str(plan, s[0]), $"{n[0]} bytes", Octal(n[2])],
        PlanOpCode.Dup2 => [$"slot{n[0]}", Num(n[1])],
        PlanOpCode.SetCtty => [Num(n[0])],
        PlanOpCode.OpenPty => [Str(plan, s[0]), $"slot{n[0]}"],
        PlanOpCode.WaitFd or PlanOpCode.CgroupJoin => [$"slot{n[0]}"],
        PlanOpCode.SetNs => [$"slot{n[0]}", DecodedOp.FlagText((CloneFlags)n[1])],
        PlanOpCode.Unshare => [DecodedOp.FlagText((CloneFlags)n[0])],
        PlanOpCode.Exec when n[0] != 0 => [Str(plan, s[0]), $"[{string.Join(',', StrList(plan, s[1]))}]", $"[{string.Join(',', StrList(plan, s[2]))}]", Str(plan, s[3]), Hex(n[0])],
        PlanOpCode.Exec => [Str(plan, s[0]), $"[{string.Join(',', StrList(plan, s[1]))}]", $"[{string.Join(',', StrList(plan, s[2]))}]", Str(plan, s[3])],
        PlanOpCode.MountSetAttr => [Str(plan, s[0]), DecodedOp.FlagText((MountAttributes)n[0]), DecodedOp.FlagText((MountAttributes)n[1])],
        PlanOpCode.Seccomp => [$"{n[0]} instructions", Num(n[1])],
        PlanOpCode.CapSet => [Hex(n[0]), Hex(n[1]), Hex(n[2]), Drops(U32List(plan, s[1])),
            n[3] == ulong.MaxValue ? "-" : $"unless-{n[3]}", $"[{string.Join(',', U32List(plan, s[0]))}]"],
        PlanOpCode.CheckFs => [Str(plan, s[0]), Hex(n[0])],
        PlanOpCode.TmpfsFiles => [Str(plan, s[1]), $"[{string.Join(',', StrList(plan, s[0]))}]", Files(plan, s[2], s[3]), Octal(n[0]),
            n[1] == ulong.MaxValue ? "-" : $"{n[1]}:{n[2]}", DecodedOp.FlagText((MountAttributes)n[3])],
        PlanOpCode.Chown => [Str(plan, s[0]), $"{n[0]}:{n[1]}"],
        PlanOpCode.FsMount => [Str(plan, s[0]), Str(plan, s[1]), $"[{string.Join(',', StrList(plan, s[2]))}]", n[0] == ulong.MaxValue ? "-" : $"slot{n[0]}", DecodedOp.FlagText((MountAttributes)n[1])],
        _ => [],
    };

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    private static string Str(ReadOnlySpan<byte> plan, uint offset)
    {
        if (offset == 0)
        {
            return "-";
        }

        var rest = plan[(int)offset..];
        var end = rest.IndexOf((byte)0);
        Assert.True(end >= 0, $"string at {offset} has no NUL inside the plan");
        return Encoding.UTF8.GetString(rest[..end]);
    }

    /// <summary>TMPFS_FILES's names with their content's length, as "name:length".</summary>
    private static string Files(ReadOnlySpan<byte> plan, uint names, uint contents)
    {
        var offsets = U32List(plan, contents);
        var files = StrList(plan, names);
        for (var i = 0; i < files.Length; i++)
        {
            files[i] += ":" + BinaryPrimitives.ReadUInt32LittleEndian(plan[(int)offsets[i]..]).ToString(CultureInfo.InvariantCulture);
        }

        return $"[{string.Join(',', files)}]";
    }

    private static uint[] U32List(ReadOnlySpan<byte> plan, uint offset)
    {
        var count = (int)U32(plan, (int)offset);
        Assert.True(offset + 4 + (4 * count) <= plan.Length, $"list at {offset} overruns the plan");
        var items = new uint[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = U32(plan, (int)offset + 4 + (4 * i));
        }

        return items;
    }

    private static string[] StrList(ReadOnlySpan<byte> plan, uint offset)
    {
        var offsets = U32List(plan, offset);
        var items = new string[offsets.Length];
        for (var i = 0; i < offsets.Length; i++)
        {
            items[i] = Str(plan, offsets[i]);
        }

        return items;
    }

    private static string Num(ulong value) => value == ulong.MaxValue ? "inf" : value.ToString(CultureInfo.InvariantCulture);

    private static string Octal(ulong value) => value == 0 ? "0" : "0" + Convert.ToString((long)value, 8);

    /// <summary>CAPSET's drop list as "drop MASK", with any capability past 63 after the mask ("drop 0x1+64,65").</summary>
    private static string Drops(uint[] caps)
    {
        var mask = caps.Where(c => c < 64).Aggregate(0UL, (m, c) => m | (1UL << (int)c));
        var high = caps.Where(c => c >= 64).ToList();
        return "drop " + Hex(mask) + (high.Count == 0 ? "" : "+" + string.Join(',', high));
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
