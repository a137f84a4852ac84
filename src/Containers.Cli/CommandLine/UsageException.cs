namespace Containers.Cli.CommandLine;

/// <summary>A command line the program cannot run: an unknown command or option, a missing value or argument.</summary>
internal sealed class UsageException : ContainersException
{
    public UsageException(string message, string commandPath)
        : base(message + (message.EndsWith('?') ? " " : ". ") + $"See '{commandPath} --help'.")
    {
    }
}
