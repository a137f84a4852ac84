namespace Containers.Security.Seccomp;

/// <summary>
/// Builds a classic BPF program with symbolic labels and resolves them into offsets. Conditional jumps reach at
/// most 255 instructions ahead, so the compiler only uses them over short distances and <see cref="JumpTo"/> (32-bit)
/// for the rest; <see cref="Assemble"/> checks both.
/// </summary>
internal sealed class BpfAssembler
{
    private readonly List<(ushort Code, Label? Jt, Label? Jf, uint K, Label? Target)> _code = [];

    /// <summary>A place in the program, marked once.</summary>
    public sealed class Label
    {
        public int Index { get; set; } = -1;

        /// <summary>Whether a jump goes to it: a shared return nothing jumps to is left out of the program.</summary>
        public bool Used { get; set; }
    }

    public Label NewLabel() => new();

    public void Mark(Label label)
    {
        if (label.Index >= 0)
        {
            throw new InvalidOperationException("a BPF label is marked twice");
        }

        label.Index = _code.Count;
    }

    /// <summary>Loads the 32-bit word at <paramref name="offset"/> of <c>seccomp_data</c>.</summary>
    public void Load(uint offset) => _code.Add(((ushort)(Bpf.Ld | Bpf.W | Bpf.Abs), null, null, offset, null));

    public void And(uint mask) => _code.Add(((ushort)(Bpf.Alu | Bpf.And | Bpf.K), null, null, mask, null));

    public void Return(uint action) => _code.Add(((ushort)(Bpf.Ret | Bpf.K), null, null, action, null));

    /// <summary>A conditional jump (<see cref="Bpf.Jeq"/>, <see cref="Bpf.Jgt"/>, <see cref="Bpf.Jge"/>); a null label is the next instruction.</summary>
    public void Jump(ushort condition, uint k, Label? whenTrue, Label? whenFalse)
    {
        Use(whenTrue);
        Use(whenFalse);
        _code.Add(((ushort)(Bpf.Jmp | condition | Bpf.K), whenTrue, whenFalse, k, null));
    }

    /// <summary>An unconditional jump, which reaches anywhere ahead.</summary>
    public void JumpTo(Label target)
    {
        Use(target);
        _code.Add(((ushort)(Bpf.Jmp | Bpf.Ja), null, null, 0, target));
    }

    private static void Use(Label? label)
    {
        if (label is not null)
        {
            label.Used = true;
        }
    }

    public int Count => _code.Count;

    public BpfInstruction[] Assemble()
    {
        var program = new BpfInstruction[_code.Count];
        for (int i = 0; i < _code.Count; i++)
        {
            var (code, jt, jf, k, target) = _code[i];
            program[i] = target is not null
                ? new BpfInstruction(code, 0, 0, (uint)Offset(i, target))
                : new BpfInstruction(code, (byte)ShortOffset(i, jt), (byte)ShortOffset(i, jf), k);
        }

        return program;
    }

    private static int Offset(int from, Label target)
    {
        if (target.Index < 0)
        {
            throw new InvalidOperationException("a BPF label is used but never marked");
        }

        var offset = target.Index - from - 1;
        return offset >= 0 ? offset : throw new InvalidOperationException("a BPF jump goes backwards");
    }

    private static int ShortOffset(int from, Label? target)
    {
        if (target is null)
        {
            return 0;
        }

        var offset = Offset(from, target);
        return offset <= byte.MaxValue ? offset : throw new InvalidOperationException("a conditional BPF jump is longer than 255 instructions");
    }
}
