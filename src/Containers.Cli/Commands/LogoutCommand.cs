using System.CommandLine;
using Containers.Distribution;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers logout [REGISTRY]</c>: removes a registry's credentials from Docker's config (or its helper).</summary>
internal static class LogoutCommand
{
    public static Command Create()
    {
        var server = new Argument<string>("REGISTRY") { Description = "The registry, host[:port] (default: docker.io)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("logout", "Remove a registry's saved credentials") { server };
        command.SetAction(async (parse, ct) =>
        {
            string name = RegistryClient.NormaliseRegistry(parse.GetValue(server) ?? ImageReference.DefaultRegistry);
            bool removed = await DockerCredentials.Default.RemoveAsync(name, ct).ConfigureAwait(false);
            Console.WriteLine(removed ? $"Removed login credentials for {name}" : $"Not logged in to {name}");
            return 0;
        });
        return command;
    }
}
