using Containers.Cli.CommandLine;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary><c>containers exec [OPTIONS] CONTAINER COMMAND [ARG...]</c>: runs a command in a running container and exits with its status.</summary>
internal static class ExecCommand
{
    public static CommandSpec Create() => new("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container")
    {
        MinArguments = 2,
        OptionsEndAtFirstArgument = true,
        Options =
        [
            EnvironmentOptions.Env,
            EnvironmentOptions.EnvFile,
            OptionSpec.Flag("interactive", 'i', "Attach stdin"),
            OptionSpec.Flag("tty", 't', "Give the process a pseudo-terminal"),
            OptionSpec.Value("user", 'u', "string", "Run as NAME|UID[:GROUP|GID], names from the container's /etc/passwd and /etc/group"),
            OptionSpec.Value("workdir", 'w', "string", "Working directory inside the container"),
            // Docker's, refused with the reason rather than as an unknown option.
            new(DetachKeys.Option, null, "Refused: an exec cannot be detached from", "string", Hidden: true),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation exec, CancellationToken cancellationToken)
    {
        if (exec.Value(DetachKeys.Option) is not null)
        {
            throw new UsageException(
                $"--{DetachKeys.Option}: an exec cannot be detached from (its terminal is held by this command, and nothing could reach the process after a detach): run the shell in a 'run -dit' container and use 'containers attach --{DetachKeys.Option} …'",
                exec.Path);
        }

        var container = await (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).GetAsync(exec.Arguments[0], cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            var main = container.Spec.Process ?? new ProcessSpec();
            var process = main with { Args = [.. exec.Arguments.Skip(1)], Terminal = exec.Has("tty"), ConsoleSize = null };
            var env = new List<string>(process.Env);
            EnvironmentOptions.Apply(env, EnvironmentOptions.Read(exec));
            process = process with { Env = [.. env] };
            if (exec.Value("user") is { } user)
            {
                process = process with { User = ContainerUser.Resolve(container.Spec.Root?.Path ?? "/", user) };
            }

            if (exec.Value("workdir") is { } cwd)
            {
                process = process with { Cwd = cwd };
            }

            if (!exec.Has("interactive"))
            {
                Stdin.DetachFromContainer();
            }

            // The exec'd process outlives this command unless it is told: its terminal is the container's, which no
            // hangup of this one reaches. The handler is in place before the process starts: a SIGHUP in between
            // would otherwise end this command by default and never reach the process. It waits for the process.
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var started = new TaskCompletionSource<ContainerExec>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var hangup = HangupForwarding.Register(
                number => started.Task.ContinueWith(t => t.Result.Signal(number), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default),
                async token => await KillAsync(await started.Task.WaitAsync(token).ConfigureAwait(false), token).ConfigureAwait(false),
                ended.Token);
            ContainerExec running;
            try
            {
                running = await container.ExecAsync(process, ContainerStdio.Inherit, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                started.SetException(e);
                throw;
            }

            started.SetResult(running);
            await using (running.ConfigureAwait(false))
            {
                using var attached = TerminalAttachment.Attach(running.Terminal, exec.Has("interactive"), cancellationToken);
                var exit = await running.WaitAsync(cancellationToken).ConfigureAwait(false);
                await ended.CancelAsync().ConfigureAwait(false);
                if (attached is not null)
                {
                    await attached.DrainAsync(cancellationToken).ConfigureAwait(false);
                }

                return exit.ShellStatus;
            }
        }
    }

    private static async Task KillAsync(ContainerExec running, CancellationToken cancellationToken)
    {
        running.Signal(9);
        await running.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
