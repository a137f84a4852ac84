using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers logs [-f] [--tail N] [-t] [--since WHEN] CONTAINER</c>: prints a detached container's output, each
/// line to the stream it was written to.
/// </summary>
internal static class LogsCommand
{
    public static CommandSpec Create() => new("logs", "[OPTIONS] CONTAINER", "Print a detached container's output")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options =
        [
            OptionSpec.Flag("follow", 'f', "Keep printing new output until the container stops"),
            OptionSpec.Value("since", null, "string", "Only output since " + TimeOption.Forms),
            OptionSpec.Value("tail", 'n', "string", "Number of lines to show from the end (default all)"),
            OptionSpec.Flag("timestamps", 't', "Show when each line was read"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation logs, CancellationToken cancellationToken)
    {
        var tail = logs.Value("tail") switch
        {
            null or "all" => -1,
            var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
            var text => throw new UsageException($"--tail '{text}': use a number of lines or 'all'", logs.Path),
        };
        var since = logs.Value("since") is { } when ? TimeOption.Parse(when, "since", logs.Path) : DateTimeOffset.MinValue;
        var timestamps = logs.Has("timestamps");
        var follow = logs.Has("follow");

        var container = await (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).GetAsync(logs.Arguments[0], cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            if (!container.Info.HasLog)
            {
                throw new ContainersException($"container '{container.Id}' keeps no log: only detached containers (run -d) do");
            }

            var stdout = Console.Out;
            var stderr = Console.Error;
            async Task WriteAsync(ContainerLogEntry record)
            {
                var line = timestamps ? record.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z' ", CultureInfo.InvariantCulture) + record.Text : record.Text;
                await (record.Stream == OutputStream.Stderr ? stderr : stdout).WriteAsync(line).ConfigureAwait(false);
            }

            if (tail >= 0 && !follow)
            {
                // One pass keeping the last lines: the log may rotate meanwhile, which moves files, not lines.
                var last = new Queue<ContainerLogEntry>();
                await foreach (var record in container.ReadLogAsync(false, cancellationToken).ConfigureAwait(false))
                {
                    if (record.Time >= since && tail > 0)
                    {
                        if (last.Count == tail)
                        {
                            last.Dequeue();
                        }

                        last.Enqueue(record);
                    }
                }

                foreach (var record in last)
                {
                    await WriteAsync(record).ConfigureAwait(false);
                }

                await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }

            var skip = 0;
            if (tail >= 0)
            {
                // A first pass counts what is logged so far, so the second (which follows) knows where the tail starts.
                await foreach (var record in container.ReadLogAsync(false, cancellationToken).ConfigureAwait(false))
                {
                    skip += record.Time < since ? 0 : 1;
                }

                skip = Math.Max(0, skip - tail);
            }

            await foreach (var record in container.ReadLogAsync(follow, cancellationToken).ConfigureAwait(false))
            {
                if (record.Time < since)
                {
                    continue;
                }

                if (skip > 0)
                {
                    skip--;
                    continue;
                }

                await WriteAsync(record).ConfigureAwait(false);
            }

            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
    }
}
