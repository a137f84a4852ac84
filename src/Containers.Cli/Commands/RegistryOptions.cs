using Containers.Cli.CommandLine;
using Containers.Distribution;

namespace Containers.Cli.Commands;

/// <summary>The options every registry command shares (<c>--insecure</c>, <c>--ca-file</c>) and the client they configure.</summary>
internal static class RegistryOptions
{
    public static OptionSpec Insecure { get; } = OptionSpec.Flag(
        "insecure", null, "Allow plain HTTP and do not verify the registry's TLS certificate (loopback registries may always use plain HTTP)");

    public static OptionSpec CaFile { get; } = OptionSpec.Value(
        "ca-file", null, "string", "A PEM file of CA certificates to trust for the registry, in addition to the system's");

    /// <summary>A client for <paramref name="registry"/>, marked insecure when <c>--insecure</c> was given.</summary>
    public static RegistryClient CreateClient(Invocation invocation, string registry) => new(new RegistryClientOptions
    {
        InsecureRegistries = invocation.Has(Insecure.Name) ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) { registry } : new HashSet<string>(),
        CaCertificateFile = invocation.Value(CaFile.Name),
    });
}
