using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers kill [-s SIGNAL] CONTAINER...</c>: sends a signal (SIGKILL by default) to each container's first process.</summary>
internal static class KillCommand
{
    private static readonly string[] Names =
        ["", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
         "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"];

    public static CommandSpec Create() => new("kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Send a signal to one or more running containers")
    {
        MinArguments = 1,
        Options = [OptionSpec.Value("signal", 's', "string", "Signal to send: a name (TERM, SIGTERM) or a number (default KILL)")],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation kill, CancellationToken cancellationToken)
    {
        var number = Parse(kill.Value("signal") ?? "KILL");
        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        foreach (var name in kill.Arguments)
        {
            var container = await runtime.GetAsync(name, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                await container.SignalAsync(number, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(name);
            }
        }

        return 0;
    }

    internal static int Parse(string signal)
    {
        if (int.TryParse(signal, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 65)
        {
            return number;
        }

        var bare = signal.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? signal[3..] : signal;
        var index = Array.FindIndex(Names, n => n.Length > 0 && string.Equals(n, bare, StringComparison.OrdinalIgnoreCase));
        return index > 0 ? index : throw new ContainersException($"unknown signal '{signal}': use a name such as TERM or KILL, or a number");
    }
}
