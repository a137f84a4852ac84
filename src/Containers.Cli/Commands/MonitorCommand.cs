using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// The hidden <c>containers __monitor [--created] ARGSFILE</c>: the owner of a detached container. ARGSFILE holds the
/// options and arguments of a <c>run</c> (NUL-separated, deleted once read), which it parses as <c>run</c> does. It
/// creates the container with its output (with <c>-t</c>, its terminal's) kept in a JSON-lines log, starts it (or,
/// with <c>--created</c>, waits until <c>containers start</c> asks, through <see cref="StartRequest"/>), tells its
/// starter on stdout, then waits for the container and records its exit status (or, with <c>--rm</c>, removes it).
/// The container lives as long as this process. With a terminal it serves <c>containers attach</c>
/// (<see cref="AttachSocket"/>).
/// </summary>
internal static class MonitorCommand
{
    public const string Name = "__monitor";

    /// <summary>The first line on stdout once the container runs (or, with <c>--created</c>, is created); the container's id follows.</summary>
    public const string Started = "started ";

    public static CommandSpec Create() => new(Name, "[OPTIONS] ARGSFILE", "Own a detached container (used by 'run -d' and 'create')")
    {
        Hidden = true,
        MinArguments = 1,
        MaxArguments = 1,
        Options = [OptionSpec.Flag("created", null, "Create the container and wait for 'containers start'")],
        Action = RunAsync,
    };

    /// <summary>
    /// Starts a monitor for the container <paramref name="run"/> describes (a <c>run</c> or <c>create</c>
    /// invocation), waits until it has started (or created) the container, and prints the container's id.
    /// </summary>
    public static async Task<int> StartAsync(Invocation run, CancellationToken cancellationToken, bool created = false)
    {
        // Refused here, before a monitor exists, with the command's own usage error.
        LogOptions.Parse(run);
        var argsFile = Path.Combine(Path.GetTempPath(), $"containers-run-{Guid.NewGuid():N}.args");
        await File.WriteAllTextAsync(argsFile, string.Join('\0', Arguments(run)), cancellationToken).ConfigureAwait(false);
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileName(start.FileName) == "dotnet")
        {
            // Started as 'dotnet Containers.Cli.dll': the monitor needs the assembly too.
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Containers.Cli.dll"));
        }

        start.ArgumentList.Add(Name);
        if (created)
        {
            start.ArgumentList.Add("--created");
        }

        start.ArgumentList.Add(argsFile);
        using var monitor = Process.Start(start) ?? throw new ContainersException("could not start the container monitor");
        var line = await monitor.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (line is not null && line.StartsWith(Started, StringComparison.Ordinal))
        {
            Console.WriteLine(line[Started.Length..]);
            return 0;
        }

        File.Delete(argsFile);
        throw new ContainersException(line ?? (await monitor.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim());
    }

    /// <summary>The invocation written back as arguments that parse to the same options and arguments.</summary>
    private static IEnumerable<string> Arguments(Invocation run)
    {
        foreach (var option in run.Command.Options)
        {
            foreach (var value in run.Values(option.Name))
            {
                yield return $"--{option.Name}={value}";
            }
        }

        yield return "--";
        foreach (var argument in run.Arguments)
        {
            yield return argument;
        }
    }

    private static async Task<int> RunAsync(Invocation monitor, CancellationToken cancellationToken)
    {
        // The terminal 'run -d' came from may close: that must not end the container.
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
        Container? container = null;
        Invocation run;
        try
        {
            var path = monitor.Arguments[0];
            var args = (await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken).ConfigureAwait(false)).Split('\0');
            File.Delete(path);
            run = Parser.Parse(RunCommand.Create(), args).Invocation!;
            container = await ContainerRequest.CreateAsync(
                run, new ContainerCreateOptions { KeepLog = true, Log = LogOptions.Parse(run), Init = run.Has("init") }, cancellationToken).ConfigureAwait(false);
            if (container.Terminal is null && !run.Has("interactive"))
            {
                // Without -i stdin is closed at once, as Docker's; with it, held open for the container's life (a
                // shell that reads it waits instead of ending). A terminal is the container's stdin either way: this
                // process holds its master for the container's life, so a shell on it waits for input, with or
                // without -i, as with Docker's 'run -dt'.
                await container.Stdin.CompleteAsync().ConfigureAwait(false);
            }
            if (!monitor.Has("created"))
            {
                await container.StartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is ContainersException or UsageException or IOException)
        {
            if (container is not null)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            Console.WriteLine(e.Message.ReplaceLineEndings(" "));
            return Cli.ErrorExitCode;
        }

        using var request = monitor.Has("created") ? StartRequest.Listen(container) : null;
        // Listening before the id is printed: 'containers attach' may follow at once.
        // Without a terminal, a created container's stdin (-i) is served for 'start -ai'.
        using var attach = container.Terminal is not null || (run.Has("interactive") && monitor.Has("created"))
            ? AttachSocket.Listen(container, container.Terminal, run.Has("interactive"))
            : null;
        Console.WriteLine(Started + container.Id);
        Console.Out.Flush();
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);

        if (request is not null && !await request.WaitAsync(container).ConfigureAwait(false))
        {
            // Removed (or killed) before anyone started it.
            await container.DisposeAsync().ConfigureAwait(false);
            return 0;
        }

        var exit = await container.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        attach?.Dispose();
        if (run.Has("rm"))
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }

        // Otherwise not disposed: the container and its state (with the exit status and the log) stay until 'containers rm'.
        return exit.ShellStatus;
    }
}
