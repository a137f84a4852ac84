using System.Diagnostics;

namespace Containers.IntegrationTests.Cli;

/// <summary>
/// Runs the <c>containers</c> command line: the native binary named by <c>CONTAINERS_CLI</c> when it is set (CI runs
/// the CLI tests against the Native AOT build too: AOT-only failures are real), otherwise the JIT build
/// (<c>Containers.Cli.dll</c>, copied next to the tests).
/// </summary>
internal static class CliRunner
{
    /// <summary>The variable that names a published <c>containers</c> binary to test instead of the JIT build.</summary>
    public const string BinaryVariable = "CONTAINERS_CLI";

    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "Containers.Cli.dll");

    public static string? NativeBinary => Environment.GetEnvironmentVariable(BinaryVariable) is { Length: > 0 } path ? path : null;

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var native = NativeBinary;
        var start = new ProcessStartInfo(native ?? (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (native is null)
        {
            start.ArgumentList.Add(Assembly);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(StartInfo(args), stdin: null);

    /// <summary>Runs the command line with <paramref name="stdin"/> written to its standard input, then closed.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, string? stdin)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command did not read its input (without -i it must not) and has exited: the write, or the flush of
            // what the failed write left buffered when the writer closes, finds the pipe broken. That is for the test
            // to judge; the writer's handle is released when the process object is disposed.
        }
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <paramref name="command"/> again while <paramref name="tooEarly"/> says its result is not final yet (at most 100 times, 50 ms apart).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RetryAsync(
        Func<Task<(int ExitCode, string Stdout, string Stderr)>> command, Func<(int ExitCode, string Stdout, string Stderr), bool> tooEarly)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = await command();
            if (!tooEarly(result) || attempt == 100)
            {
                return result;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
