using Containers.Cli.CommandLine;
using Containers.Distribution;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers logout [REGISTRY]</c>: removes a registry's saved credentials.</summary>
internal static class LogoutCommand
{
    public static CommandSpec Create() => new("logout", "[REGISTRY]", "Remove a registry's saved credentials")
    {
        MaxArguments = 1,
        Action = async (logout, ct) =>
        {
            string name = RegistryClient.NormaliseRegistry(logout.Arguments.Count > 0 ? logout.Arguments[0] : ImageReference.DefaultRegistry);
            bool removed = await DockerCredentials.Default.RemoveAsync(name, ct).ConfigureAwait(false);
            Console.WriteLine(removed ? $"Removed login credentials for {name}" : $"Not logged in to {name}");
            return 0;
        },
    };
}
