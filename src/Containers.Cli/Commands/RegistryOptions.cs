using System.CommandLine;
using Containers.Distribution;

namespace Containers.Cli.Commands;

/// <summary>The options the registry commands share (<c>--insecure</c>, <c>--ca-file</c>) and the client they make.</summary>
internal sealed class RegistryOptions
{
    private readonly Option<bool> _insecure = new("--insecure")
    {
        Description = "Allow plain HTTP and do not verify the registry's TLS certificate (loopback registries may always use plain HTTP)",
    };

    private readonly Option<string?> _caFile = new("--ca-file")
    {
        Description = "A PEM file of CA certificates to trust for the registry, in addition to the system's",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_insecure);
        command.Options.Add(_caFile);
    }

    /// <summary>A client for <paramref name="registry"/>, marked insecure when <c>--insecure</c> was given.</summary>
    public RegistryClient CreateClient(ParseResult parse, string registry) => new(new RegistryClientOptions
    {
        InsecureRegistries = parse.GetValue(_insecure) ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) { registry } : new HashSet<string>(),
        CaCertificateFile = parse.GetValue(_caFile),
    });
}
