using System.CommandLine;
using System.Globalization;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers kill NAME [SIGNAL]</c>: sends a signal (default SIGKILL) to a container's first process.</summary>
internal static class KillCommand
{
    private static readonly string[] Names =
        ["", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
         "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"];

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The container" };
        var signal = new Argument<string?>("signal") { Description = "A signal name (TERM, SIGTERM) or number; KILL by default", Arity = ArgumentArity.ZeroOrOne };
        var kill = new Command("kill", "Send a signal to a container") { name, signal };
        kill.SetAction(async (parse, cancellationToken) =>
        {
            var number = Parse(parse.GetValue(signal) ?? "KILL");
            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            var container = await runtime.GetAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                await container.SignalAsync(number, cancellationToken).ConfigureAwait(false);
                return 0;
            }
        });
        return kill;
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
