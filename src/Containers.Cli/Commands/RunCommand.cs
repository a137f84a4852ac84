using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Containers.Cli.CommandLine;
using Containers.Runtime;
using Containers.Security;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers run [OPTIONS] IMAGE [COMMAND] [ARG...]</c> (or <c>--rootfs DIR</c> / <c>--host-rootfs</c> and
/// <c>COMMAND [ARG...]</c>): runs a container, streams its output and exits with its exit code (128 + signal when
/// killed); with <c>-d</c> a monitor process keeps it running and logs its output (with <c>-t</c>, its terminal's).
/// </summary>
internal static class RunCommand
{
    public static CommandSpec Create() => new("run", ContainerRequest.Usage, "Create and run a new container from an image")
    {
        MinArguments = 1,
        OptionsEndAtFirstArgument = true,
        Options =
        [
            OptionSpec.Flag("detach", 'd', "Run in the background and print the container's id; see 'containers logs'"),
            OptionSpec.Flag("interactive", 'i', "Attach stdin (with -d: keep it open, so the program never reads its end; with -dt its terminal's input is open either way)"),
            OptionSpec.Flag("rm", null, "Remove the container when it exits (a foreground container always is)"),
            // Docker's, refused with the reason rather than as an unknown option.
            new(DetachKeys.Option, null, "Refused: nothing of a run can be detached from", "string", Hidden: true),
            .. ContainerRequest.Options,
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation run, CancellationToken cancellationToken)
    {
        if (run.Value(DetachKeys.Option) is not null)
        {
            throw new UsageException(
                run.Has("detach")
                    ? $"--{DetachKeys.Option} is for the keys of an attached terminal, and run -d attaches none: give it to 'containers attach'"
                    : $"--{DetachKeys.Option}: a foreground run cannot be detached from (its container belongs to this command and ends with it): run it with -dit, then 'containers attach --{DetachKeys.Option} …'",
                run.Path);
        }

        var options = new ContainerCreateOptions { Init = run.Has("init") };
        if (run.Has("detach"))
        {
            if (run.Has("sandbox"))
            {
                throw new UsageException("--sandbox needs a foreground container: its timeout is kept by this command", run.Path);
            }

            await ContainerRequest.PullAsync(run, cancellationToken).ConfigureAwait(false);
            return await MonitorCommand.StartAsync(run, cancellationToken).ConfigureAwait(false);
        }

        if (run.Values("log-opt").Count > 0)
        {
            throw new UsageException("--log-opt sets the log of a detached container (run -d, create): a foreground run prints its output and keeps no log", run.Path);
        }

        if (!run.Has("interactive"))
        {
            Stdin.DetachFromContainer();
        }

        if (run.Value("sandbox-limits") == "none" && run.Has("sandbox"))
        {
            await Console.Error.WriteLineAsync(SecurityOptions.NoLimitsWarning).ConfigureAwait(false);
        }

        // Before the signals are taken: Ctrl-C ends a pull.
        await ContainerRequest.PullAsync(run, cancellationToken).ConfigureAwait(false);
        using var signals = new SignalProxy();
        var container = await ContainerRequest.CreateAsync(
            run, options with { Stdio = ContainerStdio.Inherit }, cancellationToken, startAtOnce: true).ConfigureAwait(false);

        await using (container.ConfigureAwait(false))
        {
            // As Docker's sig-proxy: the signals that would end this command go to the container instead.
            signals.Attach(container);
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var attached = TerminalAttachment.Attach(container.Terminal, run.Has("interactive"), cancellationToken);
            var oomKills = container.Spec.Linux?.Resources is null ? Task.CompletedTask : ReportOomKillsAsync(container, watching.Token);
            if (container.Status == ContainerStatus.Created)
            {
                await container.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            using var deadline = run.Has("sandbox") ? new CancellationTokenSource(SandboxOptions.Default.Timeout) : null;
            using var expiry = deadline?.Token.Register(() =>
            {
                if (container.Status.CanKill())
                {
                    _ = container.SignalAsync(9);
                }
            });
            var exit = await container.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (attached is not null)
            {
                await attached.DrainAsync(cancellationToken).ConfigureAwait(false);
            }

            // The watch ends with the container, after a kill that stopped it; a bounded wait, then it is let go. No
            // watch, no wait: a timer costs a thread, which a short run would start for nothing.
            if (!oomKills.IsCompleted)
            {
                await Task.WhenAny(oomKills, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
            }

            await watching.CancelAsync().ConfigureAwait(false);
            await signals.EndedAsync().ConfigureAwait(false);
            // The container's own process died of it (SIGKILL, or an init reporting 137); a kill of another of
            // its processes was said above, and the exit status is the program's.
            var killed = exit.OomKilled && (exit.Signal == 9 || exit.ExitCode == 137);
            if (killed)
            {
                await Console.Error.WriteLineAsync($"containers: the container was killed because it ran out of memory (its limit is {run.Value("memory") ?? "set by its cgroup"})").ConfigureAwait(false);
            }

            return killed ? 137 : exit.ShellStatus;
        }
    }

    /// <summary>Says on stderr, as they happen, that the kernel killed a process of the container for memory.</summary>
    private static async Task ReportOomKillsAsync(Container container, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var kill in container.WatchOomKillsAsync(cancellationToken).ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync($"containers: a process of the container was killed because the container ran out of memory ({kill.Count} so far)").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The command is ending.
        }
        catch (ContainersException e)
        {
            await Console.Error.WriteLineAsync($"containers: OOM kills are not reported as they happen: {e.Message}").ConfigureAwait(false);
        }
    }
}
