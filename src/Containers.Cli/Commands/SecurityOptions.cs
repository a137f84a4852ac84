using Containers.Cli.CommandLine;
using Containers.Security;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// Docker's security flags of <c>run</c>: <c>--cap-add</c>, <c>--cap-drop</c>, <c>--privileged</c> and
/// <c>--security-opt KEY=VALUE</c> (<c>seccomp=PROFILE.json</c>, an OCI <c>linux.seccomp</c> object, or
/// <c>seccomp=unconfined</c>; <c>no-new-privileges[=true|false]</c>), applied to a spec in Docker's order
/// (drops, then adds; <c>--cap-add ALL</c> first). A key not listed here is refused.
/// </summary>
internal static class SecurityOptions
{
    public const string Help = "seccomp=PROFILE.json|unconfined, no-new-privileges[=true|false]";

    public static OptionSpec[] Options =>
    [
        OptionSpec.Value("cap-add", null, "list", "Add a capability (NET_ADMIN, CAP_NET_ADMIN, or ALL)"),
        OptionSpec.Value("cap-drop", null, "list", "Drop a capability (NET_RAW, CAP_NET_RAW, or ALL)"),
        OptionSpec.Flag("privileged", null, "UNSAFE: every capability of the host, no masked or read-only paths, no seccomp, no no-new-privileges"),
        OptionSpec.Flag("sandbox", null, "For untrusted code: user namespace, no capabilities, no network, read-only root, small /tmp, sandbox seccomp profile, 256 MiB, 128 tasks, 1 CPU, 30 s timeout"),
        OptionSpec.Value("sandbox-limits", null, "none", "With --sandbox, 'none' runs it without its memory, task and CPU limits (for a cgroup v1 host, where a user who is not root cannot have them)"),
        OptionSpec.Value("security-opt", null, "list", "Security options: " + Help),
    ];

    /// <summary>What is said on stderr when a sandbox runs without its limits.</summary>
    public const string NoLimitsWarning =
        "containers: --sandbox-limits none: the sandbox runs without memory, task and CPU limits; only this user's own limits bound it";

    /// <summary>
    /// The sandbox preset's options: <see cref="SandboxOptions.Default"/>, or without its limits for
    /// <c>--sandbox-limits none</c>. Resource flags (<c>--memory</c>, <c>--pids-limit</c>, <c>--cpus</c>) still apply on top.
    /// </summary>
    public static SandboxOptions Sandbox(Invocation run) => run.Value("sandbox-limits") switch
    {
        null => SandboxOptions.Default,
        "none" => SandboxOptions.Default.WithoutLimits(),
        var other => throw new UsageException($"--sandbox-limits '{other}': the only value is 'none' (no memory, task and CPU limits); leave it out for the preset's limits", run.Path),
    };

    public static ContainerSpec Apply(Invocation run, ContainerSpec spec)
    {
        if (run.Value("sandbox-limits") is not null && !run.Has("sandbox"))
        {
            throw new UsageException("--sandbox-limits goes with --sandbox: it drops the preset's limits", run.Path);
        }

        if (run.Has("privileged"))
        {
            if (run.Has("sandbox"))
            {
                throw new UsageException("--privileged and --sandbox exclude each other", run.Path);
            }

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
            var at = option.IndexOfAny(['=', ':']);
            var (key, value) = at > 0 ? (option[..at], option[(at + 1)..]) : (option, "");
            spec = key switch
            {
                "seccomp" when value == "unconfined" => spec.WithSeccomp(null),
                "seccomp" when value.Length > 0 => spec.WithSeccomp(LoadProfile(value)),
                "no-new-privileges" when value.Length == 0 => spec.WithNoNewPrivileges(true),
                "no-new-privileges" when bool.TryParse(value, out var enabled) => spec.WithNoNewPrivileges(enabled),
                _ => throw new UsageException($"--security-opt '{option}' is not supported: use {Help}", run.Path),
            };
        }

        return spec;
    }

    private static bool IsAll(string name) => string.Equals(name, "ALL", StringComparison.OrdinalIgnoreCase);

    private static LinuxSeccomp LoadProfile(string path)
    {
        try
        {
            return LinuxSeccomp.FromJson(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException($"--security-opt seccomp={path}: cannot read the profile: {e.Message}", e);
        }
    }
}
