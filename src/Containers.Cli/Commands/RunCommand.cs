using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Containers.Cli.CommandLine;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers run [OPTIONS] [--rootfs DIR | --host-rootfs] COMMAND [ARG...]</c>: runs a container, streams its
/// output and exits with its exit code (128 + signal when killed); with <c>-d</c> a monitor process keeps it running
/// and logs its output.
/// </summary>
internal static class RunCommand
{
    public static CommandSpec Create() => new("run", "[OPTIONS] [--rootfs DIR | --host-rootfs] COMMAND [ARG...]", "Run a command in a new container")
    {
        MinArguments = 1,
        OptionsEndAtFirstArgument = true,
        Options =
        [
            OptionSpec.Flag("detach", 'd', "Run in the background and print the container's id; see 'containers logs'"),
            OptionSpec.Value("env", 'e', "list", "Set an environment variable (NAME=VALUE, or NAME to pass the host's value)"),
            OptionSpec.Value("hostname", 'h', "string", "The container's hostname"),
            OptionSpec.Flag("host-rootfs", null, "Use the host's /usr, /bin, /lib* and /etc read-only (the default)"),
            OptionSpec.Flag("init", null, "Run an init as pid 1 that reaps zombies and forwards signals"),
            OptionSpec.Flag("interactive", 'i', "Attach stdin"),
            .. ResourceOptions.Options,
            OptionSpec.Value("oom-score-adj", null, "int", "Tune the OOM killer's preference for the container's processes (-1000 to 1000)"),
            OptionSpec.Value("name", null, "string", "The container's name"),
            OptionSpec.Value("network", null, "string", "none (loopback only, the default) or host"),
            OptionSpec.Flag("read-only", null, "Make the root filesystem read-only"),
            OptionSpec.Flag("rm", null, "Remove the container when it exits (a foreground container always is)"),
            OptionSpec.Value("rootfs", null, "string", "Use this directory as the root filesystem"),
            OptionSpec.Value("tmpfs", null, "list", "Mount a tmpfs at DST[:size=N]"),
            OptionSpec.Flag("tty", 't', "Give the process a pseudo-terminal"),
            OptionSpec.Value("user", 'u', "string", "Run as NAME|UID[:GROUP|GID], names from the container's /etc/passwd and /etc/group"),
            OptionSpec.Value("volume", 'v', "list", "Bind mount SRC:DST[:ro]"),
            OptionSpec.Value("workdir", 'w', "string", "Working directory inside the container"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation run, CancellationToken cancellationToken)
    {
        var spec = BuildSpec(run);
        var options = new ContainerCreateOptions { Init = run.Has("init") };
        if (run.Has("detach"))
        {
            if (run.Has("interactive") || run.Has("tty"))
            {
                throw new UsageException("-i and -t need a foreground container: a detached one has no terminal to attach (use 'containers logs')", run.Path);
            }

            return await DetachAsync(spec, run.Value("name"), options, run.Has("rm"), cancellationToken).ConfigureAwait(false);
        }

        if (!run.Has("interactive"))
        {
            Stdin.DetachFromContainer();
        }

        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        var container = await runtime.CreateAsync(
            run.Value("name"), spec, options with { Stdio = ContainerStdio.Inherit }, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            // As Docker's sig-proxy: the signals that would end this command go to the container instead.
            using var interrupt = Forward(PosixSignal.SIGINT, 2, container);
            using var terminate = Forward(PosixSignal.SIGTERM, 15, container);
            using var hangup = Forward(PosixSignal.SIGHUP, 1, container);
            Task pumps = Task.CompletedTask;
            using var raw = container.Terminal is not null && run.Has("interactive") ? HostTerminal.EnterRawMode() : null;
            using var resize = container.Terminal is { } attached && OperatingSystem.IsLinux()
                ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => Resize(attached))
                : null;
            if (container.Terminal is { } terminal)
            {
                Resize(terminal);
                pumps = Task.WhenAll(
                    terminal.Output.CopyToAsync(HostTerminal.Open(1, FileAccess.Write), cancellationToken),
                    run.Has("interactive") ? HostTerminal.Open(0, FileAccess.Read).CopyToAsync(terminal.Input.AsStream(), cancellationToken) : Task.CompletedTask);
            }

            await container.StartAsync(cancellationToken).ConfigureAwait(false);
            var exit = await container.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (container.Terminal is not null)
            {
                await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
            }

            if (exit.OomKilled)
            {
                await Console.Error.WriteLineAsync($"containers: the container was killed because it ran out of memory (its limit is {run.Value("memory") ?? "set by its cgroup"})").ConfigureAwait(false);
            }

            return exit.OomKilled && exit.Signal is null ? 137 : exit.ShellStatus;
        }
    }

    /// <summary>Gives the container's terminal the size of the one this command runs in.</summary>
    private static void Resize(ContainerTerminal terminal)
    {
        if (HostTerminal.WindowSize(1) is { } size)
        {
            terminal.Resize(size.Columns, size.Rows);
        }
    }

    private static PosixSignalRegistration Forward(PosixSignal signal, int number, Container container) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            if (container.Status.CanKill())
            {
                _ = container.SignalAsync(number);
            }
        });

    private static ContainerSpec BuildSpec(Invocation run)
    {
        if (run.Value("rootfs") is not null && run.Has("host-rootfs"))
        {
            throw new UsageException("--rootfs and --host-rootfs exclude each other: choose one", run.Path);
        }

        var spec = ContainerSpec.For([.. run.Arguments]);
        if (ResourceOptions.Any(run))
        {
            spec = spec.WithResources(r => ResourceOptions.Apply(run, r));
        }

        if (run.Value("oom-score-adj") is { } adj)
        {
            spec = spec with
            {
                Process = spec.Process! with
                {
                    OomScoreAdj = int.TryParse(adj, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
                        : throw new UsageException($"--oom-score-adj '{adj}': give a whole number from -1000 to 1000", run.Path),
                },
            };
        }

        if (run.Value("rootfs") is { } directory)
        {
            spec = spec.WithRootfs(Path.GetFullPath(directory), run.Has("read-only"));
        }
        else if (run.Has("read-only"))
        {
            spec = spec.WithHostRootfs(readOnly: true);
        }

        if (run.Value("hostname") is { } host)
        {
            spec = spec.WithHostname(host);
        }

        foreach (var variable in run.Values("env"))
        {
            var eq = variable.IndexOf('=', StringComparison.Ordinal);
            if (eq == 0)
            {
                throw new UsageException($"-e '{variable}': use NAME=VALUE, or NAME to pass the host's value", run.Path);
            }

            if (eq > 0)
            {
                spec = spec.WithEnv(variable[..eq], variable[(eq + 1)..]);
            }
            else if (Environment.GetEnvironmentVariable(variable) is { } value)
            {
                spec = spec.WithEnv(variable, value);
            }
        }

        if (run.Value("user") is { } user)
        {
            // Names come from the container's own /etc/passwd: its rootfs, or the host's /etc that it sees.
            spec = spec with { Process = spec.Process! with { User = ContainerUser.Resolve(spec.Root?.Path ?? "/", user) } };
        }

        if (run.Value("workdir") is { } cwd)
        {
            spec = spec.WithWorkingDirectory(cwd);
        }

        spec = spec.WithNetwork(run.Value("network") switch
        {
            null or "none" => NetworkMode.None,
            "host" => NetworkMode.Host,
            var other => throw new UsageException($"--network '{other}' is not supported: use none or host", run.Path),
        });
        foreach (var bind in run.Values("volume"))
        {
            var parts = bind.Split(':');
            if (parts.Length is < 2 or > 3 || (parts.Length == 3 && parts[2] is not ("ro" or "rw")))
            {
                throw new UsageException($"-v '{bind}': use SRC:DST or SRC:DST:ro", run.Path);
            }

            spec = spec.WithBindMount(Path.GetFullPath(parts[0]), parts[1], readOnly: parts.Length == 3 && parts[2] == "ro");
        }

        foreach (var mount in run.Values("tmpfs"))
        {
            var parts = mount.Split(':', 2);
            long? size = null;
            if (parts.Length == 2)
            {
                size = parts[1].StartsWith("size=", StringComparison.Ordinal) ? ParseSize(parts[1][5..]) : null;
                if (size is null)
                {
                    throw new UsageException($"--tmpfs '{mount}': use DST or DST:size=N (N in bytes, or with k, m, g)", run.Path);
                }
            }

            spec = spec.WithTmpfs(parts[0], size);
        }

        return run.Has("tty") ? spec.WithTerminal() : spec;
    }

    /// <summary>Starts a monitor process that creates and owns the container, and waits only for its start.</summary>
    private static async Task<int> DetachAsync(ContainerSpec spec, string? id, ContainerCreateOptions options, bool remove, CancellationToken cancellationToken)
    {
        var specFile = Path.Combine(Path.GetTempPath(), $"containers-spec-{Guid.NewGuid():N}.json");
        await spec.SaveAsync(specFile, cancellationToken).ConfigureAwait(false);
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

        start.ArgumentList.Add(MonitorCommand.Name);
        if (id is not null)
        {
            start.ArgumentList.Add("--name");
            start.ArgumentList.Add(id);
        }

        if (options.Init)
        {
            start.ArgumentList.Add("--init");
        }

        if (remove)
        {
            start.ArgumentList.Add("--rm");
        }

        start.ArgumentList.Add(specFile);
        using var monitor = Process.Start(start) ?? throw new ContainersException("could not start the container monitor");
        var line = await monitor.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (line is not null && line.StartsWith(MonitorCommand.Started, StringComparison.Ordinal))
        {
            Console.WriteLine(line[MonitorCommand.Started.Length..]);
            return 0;
        }

        File.Delete(specFile);
        throw new ContainersException(line ?? (await monitor.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim());
    }

    private static long? ParseSize(string text)
    {
        var multiplier = char.ToLowerInvariant(text.Length > 0 ? text[^1] : ' ') switch
        {
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            _ => 1L,
        };
        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value * multiplier : null;
    }
}
