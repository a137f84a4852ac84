using System.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers rm [-f] NAME...</c>: removes stopped containers; <c>-f</c> kills running ones first.</summary>
internal static class RmCommand
{
    public static Command Create()
    {
        var force = new Option<bool>("--force", "-f") { Description = "Kill the container first if it runs" };
        var names = new Argument<string[]>("name") { Description = "The containers", Arity = ArgumentArity.OneOrMore };
        var rm = new Command("rm", "Remove containers") { force, names };
        rm.SetAction(async (parse, cancellationToken) =>
        {
            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            foreach (var name in parse.GetValue(names)!)
            {
                var container = await runtime.GetAsync(name, cancellationToken).ConfigureAwait(false);
                await using (container.ConfigureAwait(false))
                {
                    if (container.Status.CanKill())
                    {
                        if (!parse.GetValue(force))
                        {
                            throw new ContainerStatusException(container.Id, "remove", container.Status, "stop it first or use 'containers rm -f'");
                        }

                        await container.KillAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await container.DeleteAsync(cancellationToken).ConfigureAwait(false);
                    Console.WriteLine(container.Id);
                }
            }

            return 0;
        });
        return rm;
    }
}
