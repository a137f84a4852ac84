namespace Containers.Spec;

/// <summary>
/// The capability names of capabilities(7) and their numbers (the bit in a capability mask), up to
/// <c>CAP_CHECKPOINT_RESTORE</c> (40), the last one Linux defines today. A name outside this table is refused, so a
/// typo never silently grants or keeps nothing.
/// </summary>
internal static class CapabilityNames
{
    private static readonly string[] ByNumber =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    private static readonly Dictionary<string, int> Numbers =
        ByNumber.Select((name, number) => (name, number)).ToDictionary(p => p.name, p => p.number, StringComparer.Ordinal);

    /// <summary>Every name this table knows, in number order.</summary>
    public static IReadOnlyList<string> All => ByNumber;

    /// <summary>Docker's default set: what a container's root keeps unless the spec says otherwise.</summary>
    public static readonly string[] DockerDefault =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>The number of <paramref name="name"/> (<c>CAP_NET_ADMIN</c>), or -1 when it is not a capability.</summary>
    public static int Number(string name) => Numbers.GetValueOrDefault(name, -1);

    /// <summary>The name of capability <paramref name="number"/>, or <c>capability N</c> for one this table does not know.</summary>
    public static string Name(int number) => number >= 0 && number < ByNumber.Length ? ByNumber[number] : $"capability {number}";

    /// <summary>
    /// The canonical name of a user's spelling: <c>net_admin</c>, <c>NET_ADMIN</c> and <c>CAP_NET_ADMIN</c> are one;
    /// null when it names no capability.
    /// </summary>
    public static string? Canonical(string name)
    {
        var upper = name.Trim().ToUpperInvariant();
        var full = upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper : "CAP_" + upper;
        return Numbers.ContainsKey(full) ? full : null;
    }

    /// <summary>The mask of <paramref name="names"/> (all known; the validator has checked).</summary>
    public static ulong Mask(IEnumerable<string> names)
    {
        ulong mask = 0;
        foreach (var name in names)
        {
            var number = Number(name);
            if (number >= 0)
            {
                mask |= 1UL << number;
            }
        }

        return mask;
    }
}
