using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli;

/// <summary>Shared conventions of all commands: Docker's exit codes and error printing.</summary>
internal static class Cli
{
    /// <summary>The exit code when the command itself fails (bad usage, a runtime error), as Docker's.</summary>
    public const int ErrorExitCode = 125;

    /// <summary>The exit code when the container's program exists but cannot be executed, as Docker's.</summary>
    public const int CannotExecuteExitCode = 126;

    /// <summary>The exit code when the container's program is not found, as Docker's.</summary>
    public const int NotFoundExitCode = 127;

    public static async Task<int> InvokeAsync(CommandSpec root, string[] args)
    {
        try
        {
            var parsed = Parser.Parse(root, args);
            if (parsed.Invocation is null || parsed.Command.Action is null)
            {
                Console.Out.Write(Help.For(parsed.Command, parsed.Path));
                return 0;
            }

            return await parsed.Command.Action(parsed.Invocation, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ExecutableNotFoundException e)
        {
            return Fail(e.Message, NotFoundExitCode);
        }
        catch (NotExecutableException e)
        {
            return Fail(e.Message, CannotExecuteExitCode);
        }
        catch (ContainerStartException e) when (e.Stage.StartsWith("exec", StringComparison.Ordinal))
        {
            return Fail(e.Message, e.ErrnoName == "ENOENT" ? NotFoundExitCode : CannotExecuteExitCode);
        }
        catch (ContainersException e)
        {
            return Fail(e.Message, ErrorExitCode);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled", ErrorExitCode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            return Fail(e.Message, ErrorExitCode);
        }
    }

    /// <summary>Prints one error line on stderr and returns <paramref name="exitCode"/>.</summary>
    public static int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine("containers: " + message.ReplaceLineEndings(" "));
        return exitCode;
    }
}
