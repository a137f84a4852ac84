using Containers.Cli.CommandLine;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>Docker's <c>--device HOST[:CONTAINER][:PERMISSIONS]</c>: a host node made in the container and allowed by its device cgroup.</summary>
internal static class DeviceOption
{
    public static readonly OptionSpec Option =
        OptionSpec.Value("device", null, "list", "Give the container a host device, HOST[:CONTAINER][:PERMISSIONS] (letters of rwm, default rwm)");

    /// <exception cref="UsageException">A value is malformed.</exception>
    /// <exception cref="DeviceNotFoundException">A host path is not a device.</exception>
    public static ContainerSpec Apply(Invocation invocation, ContainerSpec spec)
    {
        foreach (var value in invocation.Values("device"))
        {
            var parts = value.Split(':');
            var (host, container, access) = parts.Length switch
            {
                1 => (parts[0], parts[0], "rwm"),
                2 when IsAccess(parts[1]) => (parts[0], parts[0], parts[1]),
                2 => (parts[0], parts[1], "rwm"),
                3 => (parts[0], parts[1], parts[2]),
                _ => default,
            };
            if (host is not ['/', ..] || container is not ['/', ..] || !IsAccess(access))
            {
                throw new UsageException($"--device '{value}': use HOST[:CONTAINER][:PERMISSIONS], absolute paths and letters of rwm, for example /dev/fuse or /dev/sdb:/dev/xvdb:r", invocation.Path);
            }

            spec = spec.WithDevice(HostDevices.Describe(host, container), access);
        }

        return spec;
    }

    private static bool IsAccess(string text) => text.Length is > 0 and <= 3 && text.All(c => c is 'r' or 'w' or 'm') && text.Distinct().Count() == text.Length;
}
