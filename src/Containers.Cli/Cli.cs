using System.CommandLine;

namespace Containers.Cli;

/// <summary>Shared conventions of all commands: exit codes, error printing, cancellation on Ctrl+C.</summary>
internal static class Cli
{
    /// <summary>The exit code when the command itself fails (bad usage, a runtime error), as Docker's.</summary>
    public const int ErrorExitCode = 125;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Fail(parse.Errors[0].Message);
            return ErrorExitCode;
        }

        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (ContainersException e)
        {
            Fail(e.Message);
            return ErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            Fail("cancelled");
            return ErrorExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            Fail(e.Message);
            return ErrorExitCode;
        }
    }

    /// <summary>Prints one error line on stderr.</summary>
    public static void Fail(string message) =>
        Console.Error.WriteLine("containers: " + message.ReplaceLineEndings(" "));
}
