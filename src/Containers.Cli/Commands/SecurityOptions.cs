using Containers.Cli.CommandLine;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// Docker's security flags of <c>run</c>: <c>--cap-add</c>, <c>--cap-drop</c>, <c>--security-opt</c> and
/// <c>--privileged</c>, applied to a spec in Docker's order (drops, then adds; <c>--cap-add ALL</c> first).
/// </summary>
internal static class SecurityOptions
{
    public static OptionSpec[] Options =>
    [
        OptionSpec.Value("cap-add", null, "list", "Add a capability (NET_ADMIN, CAP_NET_ADMIN, or ALL)"),
        OptionSpec.Value("cap-drop", null, "list", "Drop a capability (NET_RAW, CAP_NET_RAW, or ALL)"),
        OptionSpec.Flag("privileged", null, "UNSAFE: every capability of the host, no masked or read-only paths, no no-new-privileges"),
        OptionSpec.Value("security-opt", null, "list", "no-new-privileges[=true|false] (on by default)"),
        OptionSpec.Flag("sandbox", null, "For untrusted code: user namespace, no capabilities, no network, read-only root, small /tmp, sandbox seccomp profile, 30 s timeout"),
    ];

    public static ContainerSpec Apply(Invocation run, ContainerSpec spec)
    {
        if (run.Has("privileged"))
        {
            spec = spec.WithPrivileged();
        }

        var adds = run.Values("cap-add");
        var drops = run.Values("cap-drop");
        if (adds.Any(IsAll))
        {
            spec = spec.WithCapabilitiesAdded(adds);
            adds = [];
        }

        if (drops.Count > 0)
        {
            spec = spec.WithCapabilitiesDropped(drops);
        }

        if (adds.Count > 0)
        {
            spec = spec.WithCapabilitiesAdded(adds);
        }

        foreach (var option in run.Values("security-opt"))
        {
            var (key, value) = option.IndexOfAny([':', '=']) is var at and >= 0 ? (option[..at], option[(at + 1)..]) : (option, "true");
            spec = key switch
            {
                "no-new-privileges" when bool.TryParse(value, out var enabled) => spec.WithNoNewPrivileges(enabled),
                "no-new-privileges" => throw new UsageException($"--security-opt '{option}': use no-new-privileges=true or =false", run.Path),
                _ => throw new UsageException($"--security-opt '{option}' is not supported: this runtime knows no-new-privileges", run.Path),
            };
        }

        return spec;
    }

    private static bool IsAll(string name) => string.Equals(name, "ALL", StringComparison.OrdinalIgnoreCase);
}
