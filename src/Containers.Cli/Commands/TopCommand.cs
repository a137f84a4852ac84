using System.Diagnostics;
using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers top CONTAINER [ps OPTIONS]</c>: the container's processes as the host's <c>ps</c> shows them
/// (<c>-ef</c> unless options are given), as Docker's: <c>ps</c> runs on the host and only the rows whose PID is one of
/// the container's are kept. The container's processes are those in its pid namespace (exec'd ones included), or,
/// when it shares the host's, its process and that process's descendants.
/// </summary>
internal static class TopCommand
{
    public static CommandSpec Create() => new("top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container")
    {
        MinArguments = 1,
        OptionsEndAtFirstArgument = true,
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation top, CancellationToken cancellationToken)
    {
        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var container = await runtime.GetAsync(top.Arguments[0], cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            var info = container.Info;
            if (info.OwnerInOtherPidNamespace && info.Status.CanKill())
            {
                // Its pid is a number of the owner's namespace: the rows of this namespace's ps with it are others'.
                throw new ContainerPidNamespaceException(info.Id, "list the processes of", info.OwnerPid, info.OwnerPidNamespace);
            }

            if (info.Status != ContainerStatus.Running || info.Pid is not { } pid)
            {
                throw new ContainerStatusException(info.Id, "list the processes of", info.Status, "start it first");
            }

            var pids = ProcessesOf(pid);
            string[] options = top.Arguments.Count > 1 ? [.. top.Arguments.Skip(1)] : ["-ef"];
            var output = await PsAsync(options, cancellationToken).ConfigureAwait(false);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var pidColumn = lines.Length == 0 ? -1 : Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), "PID");
            if (pidColumn < 0)
            {
                throw new UsageException($"ps {string.Join(' ', options)} printed no PID column: add one (for example -o pid,args)", top.Path);
            }

            Console.WriteLine(lines[0]);
            foreach (var line in lines.Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var rowPid) && pids.Contains(rowPid))
                {
                    Console.WriteLine(line);
                }
            }
        }

        return 0;
    }

    /// <summary>The host pids of the container whose first process is <paramref name="pid"/>.</summary>
    private static HashSet<int> ProcessesOf(int pid)
    {
        var namespaceOf = PidNamespace(pid) ?? throw new ContainersException($"the container's process {pid} has gone");
        var shared = namespaceOf == PidNamespace(Environment.ProcessId);
        var parents = new Dictionary<int, int>();
        var members = new HashSet<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate))
            {
                continue;
            }

            if (!shared)
            {
                if (PidNamespace(candidate) == namespaceOf)
                {
                    members.Add(candidate);
                }
            }
            else if (ParentOf(candidate) is { } parent)
            {
                parents[candidate] = parent;
            }
        }

        if (shared)
        {
            // Descendants of the container's process: walk each process's parents up to it.
            members.Add(pid);
            foreach (var candidate in parents.Keys)
            {
                for (var p = candidate; parents.TryGetValue(p, out var parent) && parent > 1; p = parent)
                {
                    if (parent == pid)
                    {
                        members.Add(candidate);
                        break;
                    }
                }
            }
        }

        return members;
    }

    private static string? PidNamespace(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/pid").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or another user's process we may not inspect: not ours.
            return null;
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<string> PsAsync(string[] options, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ps") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ContainersException("top runs the host's ps, which is not installed (Debian: apt-get install procps): " + e.Message);
        }

        using (process)
        {
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new ContainersException($"ps {string.Join(' ', options)} failed: {(await error.ConfigureAwait(false)).Trim()}");
            }

            return output;
        }
    }
}
