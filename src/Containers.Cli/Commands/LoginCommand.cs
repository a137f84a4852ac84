using System.CommandLine;
using Containers.Distribution;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers login REGISTRY -u USER --password-stdin</c>: checks the credentials against the registry and saves them
/// in Docker's config (<c>~/.docker/config.json</c>, or its credential helper), mode 0600.
/// </summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        var server = new Argument<string>("REGISTRY") { Description = "The registry, host[:port] (docker.io for Docker Hub)" };
        var user = new Option<string>("--username", "-u") { Description = "The user name", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password (or access token) from stdin" };
        var registry = new RegistryOptions();
        var command = new Command("login", "Log in to a registry; the credentials are saved in Docker's config file") { server, user, passwordStdin };
        registry.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!parse.GetValue(passwordStdin))
            {
                throw new ArgumentException("give the password on stdin with --password-stdin (for example: echo \"$TOKEN\" | containers login REGISTRY -u USER --password-stdin)");
            }

            string password = (await Console.In.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\n', '\r');
            if (password.Length == 0)
            {
                throw new ArgumentException("the password read from stdin is empty");
            }

            string name = RegistryClient.NormaliseRegistry(parse.GetValue(server)!);
            using var client = registry.CreateClient(parse, name);
            var docker = DockerCredentials.Default;
            await client.LoginAsync(name, new RegistryCredentials(parse.GetValue(user)!, password), docker, ct).ConfigureAwait(false);
            Console.WriteLine($"Login succeeded: {name} (credentials saved in {docker.ConfigPath})");
            return 0;
        });
        return command;
    }
}
