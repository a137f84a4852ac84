using System.CommandLine;
using System.Reflection;

namespace Containers.Cli.Commands;

/// <summary><c>containers version</c>: prints the library version.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the version of containers");
        command.SetAction(_ =>
        {
            var version = typeof(ContainersException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>();
            Console.WriteLine(version?.InformationalVersion ?? "unknown");
            return 0;
        });
        return command;
    }
}
