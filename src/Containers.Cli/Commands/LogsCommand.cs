using System.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers logs [-f] NAME</c>: prints a detached container's output, each line to the stream it was written to.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the container stops" };
        var name = new Argument<string>("name") { Description = "The container" };
        var logs = new Command("logs", "Print a detached container's output") { follow, name };
        logs.SetAction(async (parse, cancellationToken) =>
        {
            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            var container = await runtime.GetAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                if (!container.Info.HasLog)
                {
                    throw new ContainersException($"container '{container.Id}' keeps no log: only detached containers (run -d) do");
                }

                var stdout = Console.Out;
                var stderr = Console.Error;
                await foreach (var entry in container.ReadLogAsync(parse.GetValue(follow), cancellationToken).ConfigureAwait(false))
                {
                    await (entry.Stream == OutputStream.Stderr ? stderr : stdout).WriteAsync(entry.Text).ConfigureAwait(false);
                }

                await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
        });
        return logs;
    }
}
