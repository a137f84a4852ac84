namespace Containers.Spec;

/// <summary>
/// One entry of <c>process.rlimits</c>: a resource limit applied with <c>setrlimit(2)</c> before the process runs.
/// </summary>
/// <param name="Type">The limit's name as in <c>setrlimit(2)</c>, for example <c>RLIMIT_NOFILE</c> (<c>type</c>).</param>
/// <param name="Hard">The ceiling the soft limit may be raised to (<c>hard</c>).</param>
/// <param name="Soft">The limit the kernel enforces (<c>soft</c>); must not exceed <paramref name="Hard"/>.</param>
public sealed record PosixRlimit(string Type, ulong Hard, ulong Soft)
{
    /// <summary>The limit names <c>setrlimit(2)</c> knows on Linux; <see cref="ContainerSpec.Validate"/> accepts only these.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } =
    [
        "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS", "RLIMIT_MEMLOCK",
        "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
    ];
}
