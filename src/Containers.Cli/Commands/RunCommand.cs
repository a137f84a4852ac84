using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers run [options] -- COMMAND [ARG]...</c>: runs a container, streams its output and exits with its
/// exit code (128 + signal when killed); with <c>-d</c> a monitor process keeps it running and logs its output.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var rootfs = new Option<string?>("--rootfs") { Description = "Use this directory as the root filesystem" };
        var hostRootfs = new Option<bool>("--host-rootfs") { Description = "Use the host's /usr, /bin, /lib* and /etc read-only (the default)" };
        var readOnly = new Option<bool>("--read-only") { Description = "Make the root filesystem read-only" };
        var hostname = new Option<string?>("--hostname") { Description = "The container's hostname" };
        var env = new Option<string[]>("--env", "-e") { Description = "Set an environment variable (KEY=VALUE)" };
        var user = new Option<string?>("--user", "-u") { Description = "Run as UID[:GID]" };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory inside the container" };
        var network = new Option<string>("--network") { Description = "none (loopback only, the default) or host", DefaultValueFactory = _ => "none" };
        network.AcceptOnlyFromAmong("none", "host");
        var volume = new Option<string[]>("--volume", "-v") { Description = "Bind mount SRC:DST[:ro]" };
        var tmpfs = new Option<string[]>("--tmpfs") { Description = "Mount a tmpfs at DST[:size=N]" };
        var tty = new Option<bool>("--tty", "-t") { Description = "Give the process a pseudo-terminal" };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Keep stdin open" };
        var init = new Option<bool>("--init") { Description = "Run an init as pid 1 that reaps zombies and forwards signals" };
        var detach = new Option<bool>("--detach", "-d") { Description = "Run in the background; see 'containers logs'" };
        var name = new Option<string?>("--name") { Description = "The container's name" };
        var command = new Argument<string[]>("command") { Description = "The program and its arguments", Arity = ArgumentArity.OneOrMore };

        var run = new Command("run", "Run a command in a new container")
        {
            rootfs, hostRootfs, readOnly, hostname, env, user, workdir, network, volume, tmpfs, tty, interactive, init, detach, name, command,
        };
        run.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(rootfs) is not null && parse.GetValue(hostRootfs))
            {
                throw new ContainersException("--rootfs and --host-rootfs exclude each other: choose one");
            }

            var spec = ContainerSpec.For([.. parse.GetValue(command)!]);
            if (parse.GetValue(rootfs) is { } directory)
            {
                spec = spec.WithRootfs(Path.GetFullPath(directory), parse.GetValue(readOnly));
            }
            else if (parse.GetValue(readOnly))
            {
                spec = spec.WithHostRootfs(readOnly: true);
            }

            if (parse.GetValue(hostname) is { } host)
            {
                spec = spec.WithHostname(host);
            }

            foreach (var variable in parse.GetValue(env) ?? [])
            {
                var eq = variable.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ContainersException($"-e '{variable}': use KEY=VALUE");
                }

                spec = spec.WithEnv(variable[..eq], variable[(eq + 1)..]);
            }

            if (parse.GetValue(user) is { } ids)
            {
                var parts = ids.Split(':');
                if (parts.Length > 2 || !uint.TryParse(parts[0], CultureInfo.InvariantCulture, out var uid)
                    || (parts.Length == 2 && !uint.TryParse(parts[1], CultureInfo.InvariantCulture, out _)))
                {
                    throw new ContainersException($"-u '{ids}': use UID or UID:GID (numbers)");
                }

                spec = spec.WithUser(uid, parts.Length == 2 ? uint.Parse(parts[1], CultureInfo.InvariantCulture) : uid);
            }

            if (parse.GetValue(workdir) is { } cwd)
            {
                spec = spec.WithWorkingDirectory(cwd);
            }

            spec = spec.WithNetwork(parse.GetValue(network) == "host" ? NetworkMode.Host : NetworkMode.None);
            foreach (var bind in parse.GetValue(volume) ?? [])
            {
                var parts = bind.Split(':');
                if (parts.Length is < 2 or > 3 || (parts.Length == 3 && parts[2] is not ("ro" or "rw")))
                {
                    throw new ContainersException($"-v '{bind}': use SRC:DST or SRC:DST:ro");
                }

                spec = spec.WithBindMount(Path.GetFullPath(parts[0]), parts[1], readOnly: parts.Length == 3 && parts[2] == "ro");
            }

            foreach (var mount in parse.GetValue(tmpfs) ?? [])
            {
                var parts = mount.Split(':', 2);
                long? size = null;
                if (parts.Length == 2)
                {
                    size = parts[1].StartsWith("size=", StringComparison.Ordinal) ? ParseSize(parts[1][5..]) : null;
                    if (size is null)
                    {
                        throw new ContainersException($"--tmpfs '{mount}': use DST or DST:size=N (N in bytes, or with k, m, g)");
                    }
                }

                spec = spec.WithTmpfs(parts[0], size);
            }

            if (parse.GetValue(tty))
            {
                spec = spec.WithTerminal();
            }

            var options = new ContainerCreateOptions { Init = parse.GetValue(init) };
            var id = parse.GetValue(name);
            if (parse.GetValue(detach))
            {
                return await DetachAsync(spec, id, options, cancellationToken).ConfigureAwait(false);
            }

            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            var container = await runtime.CreateAsync(
                id, spec, options with { Stdio = ContainerStdio.Inherit }, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                Task pumps = Task.CompletedTask;
                if (container.Terminal is { } terminal)
                {
                    if (!Console.IsOutputRedirected)
                    {
                        terminal.Resize((ushort)Console.WindowWidth, (ushort)Console.WindowHeight);
                    }

                    pumps = Task.WhenAll(
                        terminal.Output.CopyToAsync(Console.OpenStandardOutput(), cancellationToken),
                        parse.GetValue(interactive) ? Console.OpenStandardInput().CopyToAsync(terminal.Input.AsStream(), cancellationToken) : Task.CompletedTask);
                }

                await container.StartAsync(cancellationToken).ConfigureAwait(false);
                var exit = await container.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (container.Terminal is not null)
                {
                    await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
                }

                return exit.ShellStatus;
            }
        });
        return run;
    }

    /// <summary>Starts a monitor process that creates and owns the container, and waits only for its start.</summary>
    private static async Task<int> DetachAsync(ContainerSpec spec, string? id, ContainerCreateOptions options, CancellationToken cancellationToken)
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
            start.ArgumentList.Add(typeof(RunCommand).Assembly.Location);
        }

        start.ArgumentList.Add(MonitorCommand.Name);
        start.ArgumentList.Add(specFile);
        if (id is not null)
        {
            start.ArgumentList.Add("--name");
            start.ArgumentList.Add(id);
        }

        if (options.Init)
        {
            start.ArgumentList.Add("--init");
        }

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
