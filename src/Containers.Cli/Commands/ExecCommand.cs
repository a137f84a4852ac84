using System.CommandLine;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary><c>containers exec NAME -- COMMAND [ARG]...</c>: runs a command in a running container and exits with its status.</summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The container" };
        var command = new Argument<string[]>("command") { Description = "The program and its arguments", Arity = ArgumentArity.OneOrMore };
        var exec = new Command("exec", "Run a command in a running container") { name, command };
        exec.SetAction(async (parse, cancellationToken) =>
        {
            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            var container = await runtime.GetAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                var main = container.Spec.Process ?? new ProcessSpec();
                var process = main with { Args = [.. parse.GetValue(command)!], Terminal = false, ConsoleSize = null };
                var running = await container.ExecAsync(process, ContainerStdio.Inherit, cancellationToken).ConfigureAwait(false);
                await using (running.ConfigureAwait(false))
                {
                    return (await running.WaitAsync(cancellationToken).ConfigureAwait(false)).ShellStatus;
                }
            }
        });
        return exec;
    }
}
