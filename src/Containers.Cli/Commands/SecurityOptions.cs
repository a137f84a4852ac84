using Containers.Cli.CommandLine;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>--security-opt KEY=VALUE</c> of <c>run</c>, each applied to the spec: <c>seccomp=PROFILE.json</c> (an OCI
/// <c>linux.seccomp</c> object) or <c>seccomp=unconfined</c>. A key not listed here is refused.
/// </summary>
internal static class SecurityOptions
{
    public const string Help = "seccomp=PROFILE.json|unconfined";

    public static ContainerSpec Apply(ContainerSpec spec, IEnumerable<string> values, string commandPath)
    {
        foreach (var option in values)
        {
            var eq = option.IndexOf('=', StringComparison.Ordinal);
            var (key, value) = eq > 0 ? (option[..eq], option[(eq + 1)..]) : (option, "");
            spec = key switch
            {
                "seccomp" when value == "unconfined" => spec.WithSeccomp(null),
                "seccomp" when value.Length > 0 => spec.WithSeccomp(LoadProfile(value)),
                _ => throw new UsageException($"--security-opt '{option}' is not supported: use {Help}", commandPath),
            };
        }

        return spec;
    }

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
