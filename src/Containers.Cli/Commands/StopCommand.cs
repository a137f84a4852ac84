using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers stop [-t SECONDS] CONTAINER...</c>: SIGTERM, then SIGKILL when the container has not exited after the
/// grace period (10 seconds by default), as Docker's.
/// </summary>
internal static class StopCommand
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    public static CommandSpec Create() => new("stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers")
    {
        MinArguments = 1,
        Options =
        [
            OptionSpec.Value("signal", 's', "string", "Signal to send first (default: the image's StopSignal, else TERM)"),
            OptionSpec.Value("time", 't', "int", "Seconds to wait before killing the container (default 10)"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation stop, CancellationToken cancellationToken)
    {
        var grace = stop.IntValue("time", 10);
        if (grace < 0)
        {
            throw new UsageException($"--time {grace}: use 0 or more seconds", stop.Path);
        }

        int? signal = stop.Value("signal") is { } name ? KillCommand.Parse(name) : null;
        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        foreach (var id in stop.Arguments)
        {
            var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                if (container.Status.CanKill())
                {
                    // Without -s, the container's own stop signal: its image's StopSignal, else SIGTERM.
                    await StopAsync(container, signal ?? container.Info.StopSignal, TimeSpan.FromSeconds(grace), cancellationToken).ConfigureAwait(false);
                }

                Console.WriteLine(id);
            }
        }

        return 0;
    }

    private static async Task StopAsync(Container container, int signal, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (signal == SigTerm)
        {
            // The library's stop: SIGTERM, SIGKILL after the grace period, a created container killed at once.
            await container.StopAsync(grace, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Another first signal (-s): the same steps with it.
        await container.SignalAsync(signal, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(grace);
        try
        {
            await container.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await container.KillAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
