using System.Collections.Frozen;

namespace Containers.Security.Seccomp;

/// <summary>
/// System call numbers by name for each <see cref="SeccompArchitecture"/>, generated from the kernel's UAPI headers
/// by <c>build/gen-syscall-tables.sh</c> (the <c>SyscallTable.*.g.cs</c> files name the header and its version).
/// </summary>
internal static partial class SyscallTables
{
    private static readonly FrozenDictionary<SeccompArchitecture, Table> Tables = new Dictionary<SeccompArchitecture, Table>
    {
        [SeccompArchitecture.X86_64] = new(X86_64),
        [SeccompArchitecture.I386] = new(I386),
        [SeccompArchitecture.X32] = new(X32),
        [SeccompArchitecture.Aarch64] = new(Aarch64),
    }.ToFrozenDictionary();

    /// <summary>The number of <paramref name="name"/> on <paramref name="arch"/>, or null where it has no such call.</summary>
    public static uint? Number(SeccompArchitecture arch, string name) =>
        Tables[arch].ByName.TryGetValue(name, out var number) ? number : null;

    /// <summary>The name of system call <paramref name="number"/> on <paramref name="arch"/>, or null where the table has none.</summary>
    public static string? Name(SeccompArchitecture arch, uint number) => Tables[arch].ByNumber.GetValueOrDefault(number);

    /// <summary>Whether <paramref name="number"/> is a system call of <paramref name="arch"/> that the table knows.</summary>
    public static bool IsKnown(SeccompArchitecture arch, uint number) => Tables[arch].Numbers.Contains(number);

    /// <summary>
    /// The newest system call number the table knows in the range new system calls are added to (for x32 that
    /// leaves out its own block at 512–547): any number above it that the table does not know is newer than this
    /// runtime, and a filter answers it with <c>ENOSYS</c> so that the C library falls back to an older call.
    /// </summary>
    public static uint Newest(SeccompArchitecture arch) => Tables[arch].Newest;

    /// <summary>Whether any table knows <paramref name="name"/>.</summary>
    public static bool IsName(string name) => Tables.Values.Any(t => t.ByName.ContainsKey(name));

    private sealed class Table
    {
        public Table((string Name, int Number)[] entries)
        {
            ByName = entries.ToFrozenDictionary(e => e.Name, e => (uint)e.Number, StringComparer.Ordinal);
            Numbers = entries.Select(e => (uint)e.Number).ToFrozenSet();
            ByNumber = entries.GroupBy(e => (uint)e.Number).ToFrozenDictionary(g => g.Key, g => g.First().Name);
            Newest = entries.Select(e => (uint)e.Number & ~SeccompArchitectures.X32SyscallBit).Where(n => n < 512).Max()
                | (entries[0].Number >= SeccompArchitectures.X32SyscallBit ? SeccompArchitectures.X32SyscallBit : 0);
        }

        public FrozenDictionary<string, uint> ByName { get; }

        public FrozenSet<uint> Numbers { get; }

        public FrozenDictionary<uint, string> ByNumber { get; }

        public uint Newest { get; }
    }
}
