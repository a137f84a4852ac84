using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>Docker's <c>--ulimit NAME=SOFT[:HARD]</c>: a resource limit (<c>process.rlimits</c>) set before the program runs.</summary>
internal static class UlimitOption
{
    public static readonly OptionSpec Option =
        OptionSpec.Value("ulimit", null, "list", "Set a resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 or unlimited for none)");

    /// <exception cref="UsageException">A value is malformed or names no limit.</exception>
    public static ContainerSpec Apply(Invocation invocation, ContainerSpec spec)
    {
        foreach (var value in invocation.Values("ulimit"))
        {
            var eq = value.IndexOf('=', StringComparison.Ordinal);
            var type = eq > 0 ? "RLIMIT_" + value[..eq].ToUpperInvariant() : null;
            if (type is null || !PosixRlimit.KnownTypes.Contains(type, StringComparer.Ordinal))
            {
                throw new UsageException($"--ulimit '{value}': use NAME=SOFT[:HARD] with NAME one of {string.Join(", ", PosixRlimit.KnownTypes.Select(t => t["RLIMIT_".Length..].ToLowerInvariant()))}", invocation.Path);
            }

            var limits = value[(eq + 1)..].Split(':');
            if (limits.Length > 2)
            {
                throw new UsageException($"--ulimit '{value}': use NAME=SOFT or NAME=SOFT:HARD", invocation.Path);
            }

            var soft = Limit(invocation, value, limits[0]);
            var hard = limits.Length == 2 ? Limit(invocation, value, limits[1]) : soft;
            if (soft > hard)
            {
                throw new UsageException($"--ulimit '{value}': the soft limit must not exceed the hard one", invocation.Path);
            }

            spec = spec.WithRlimit(type, soft, hard);
        }

        return spec;
    }

    /// <summary>A limit; -1 or <c>unlimited</c> is RLIM_INFINITY.</summary>
    private static ulong Limit(Invocation invocation, string value, string text) =>
        text is "-1" or "unlimited" ? ulong.MaxValue
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new UsageException($"--ulimit '{value}': '{text}' is not a limit: give a whole number, or -1 (unlimited)", invocation.Path);
}
