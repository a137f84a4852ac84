using Containers.Cli.CommandLine;
using Containers.Distribution;

namespace Containers.Cli.Commands;

/// <summary><c>containers login REGISTRY -u USER --password-stdin</c>: checks the credentials and saves them in Docker's config file.</summary>
internal static class LoginCommand
{
    public static CommandSpec Create() => new("login", "[OPTIONS] REGISTRY", "Log in to a registry; the credentials are saved in Docker's config file")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options =
        [
            RegistryOptions.CaFile,
            RegistryOptions.Insecure,
            OptionSpec.Flag("password-stdin", null, "Read the password (or access token) from stdin"),
            OptionSpec.Value("username", 'u', "string", "The user name (required)"),
        ],
        Action = async (login, ct) =>
        {
            var user = login.Value("username") ?? throw new UsageException("option '--username' is required", login.Path);
            if (!login.Has("password-stdin"))
            {
                throw new ArgumentException("give the password on stdin with --password-stdin (for example: echo \"$TOKEN\" | containers login REGISTRY -u USER --password-stdin)");
            }

            string password = (await Console.In.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\n', '\r');
            if (password.Length == 0)
            {
                throw new ArgumentException("the password read from stdin is empty");
            }

            string name = RegistryClient.NormaliseRegistry(login.Arguments[0]);
            using var client = RegistryOptions.CreateClient(login, name);
            var docker = DockerCredentials.Default;
            await client.LoginAsync(name, new RegistryCredentials(user, password), docker, ct).ConfigureAwait(false);
            Console.WriteLine($"Login succeeded: {name} (credentials saved in {docker.ConfigPath})");
            return 0;
        },
    };
}
