namespace Containers.Security.Seccomp;

/// <summary>
/// System call numbers by name for each <see cref="SeccompArchitecture"/>, generated from the kernel's UAPI headers
/// by <c>build/gen-syscall-tables.sh</c> (the <c>SyscallTable.*.g.cs</c> files name the header and its version).
/// </summary>
internal static partial class SyscallTables
{
    // Each table is built on first use (a container's filter needs only the host's architectures), as a plain
    // dictionary: freezing all four at start took about a tenth of the CPU of a command line run, far more than
    // the few hundred lookups of one compilation save.
    private static readonly Lazy<Table> X86_64Table = new(() => new(X86_64));
    private static readonly Lazy<Table> I386Table = new(() => new(I386));
    private static readonly Lazy<Table> X32Table = new(() => new(X32));
    private static readonly Lazy<Table> Aarch64Table = new(() => new(Aarch64));

    private static Table TableOf(SeccompArchitecture arch) => arch switch
    {
        SeccompArchitecture.X86_64 => X86_64Table.Value,
        SeccompArchitecture.I386 => I386Table.Value,
        SeccompArchitecture.X32 => X32Table.Value,
        SeccompArchitecture.Aarch64 => Aarch64Table.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "no system call table for this architecture"),
    };

    private static IEnumerable<Table> AllTables => [X86_64Table.Value, I386Table.Value, X32Table.Value, Aarch64Table.Value];

    /// <summary>The number of <paramref name="name"/> on <paramref name="arch"/>, or null where it has no such call.</summary>
    public static uint? Number(SeccompArchitecture arch, string name) =>
        TableOf(arch).ByName.TryGetValue(name, out var number) ? number : null;

    /// <summary>The name of system call <paramref name="number"/> on <paramref name="arch"/>, or null where the table has none.</summary>
    public static string? Name(SeccompArchitecture arch, uint number) => TableOf(arch).ByNumber.GetValueOrDefault(number);

    /// <summary>Whether <paramref name="number"/> is a system call of <paramref name="arch"/> that the table knows.</summary>
    public static bool IsKnown(SeccompArchitecture arch, uint number) => TableOf(arch).ByNumber.ContainsKey(number);

    /// <summary>
    /// The newest system call number the table knows in the range new system calls are added to (for x32 that
    /// leaves out its own block at 512–547): any number above it that the table does not know is newer than this
    /// runtime, and a filter answers it with <c>ENOSYS</c> so that the C library falls back to an older call.
    /// </summary>
    public static uint Newest(SeccompArchitecture arch) => TableOf(arch).Newest;

    /// <summary>Whether any table knows <paramref name="name"/>.</summary>
    public static bool IsName(string name) => AllTables.Any(t => t.ByName.ContainsKey(name));

    private sealed class Table
    {
        public Table((string Name, int Number)[] entries)
        {
            ByName = new Dictionary<string, uint>(entries.Length, StringComparer.Ordinal);
            ByNumber = new Dictionary<uint, string>(entries.Length);
            foreach (var (name, number) in entries)
            {
                ByName[name] = (uint)number;
                ByNumber.TryAdd((uint)number, name);
            }

            Newest = entries.Select(e => (uint)e.Number & ~SeccompArchitectures.X32SyscallBit).Where(n => n < 512).Max()
                | (entries[0].Number >= SeccompArchitectures.X32SyscallBit ? SeccompArchitectures.X32SyscallBit : 0);
        }

        public Dictionary<string, uint> ByName { get; }

        public Dictionary<uint, string> ByNumber { get; }

        public uint Newest { get; }
    }
}
