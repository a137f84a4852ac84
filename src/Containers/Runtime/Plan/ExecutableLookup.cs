using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// Finds the program (<c>process.args[0]</c>) in the container's files as execve and execvp will: a name with a
/// '/' as a path (relative to the working directory), any other name in the process's <c>PATH</c>.
/// </summary>
internal static class ExecutableLookup
{
    /// <summary>
    /// The path to exec: the name as given when it holds a '/', otherwise the first match in <c>PATH</c>; the name
    /// as given when the container's files cannot be seen (the child's execvp then searches).
    /// </summary>
    /// <exception cref="ExecutableNotFoundException">Nothing is at the path, or no <c>PATH</c> entry holds the name.</exception>
    /// <exception cref="NotExecutableException">What is there is a directory or has no execute permission (and, for a <c>PATH</c> search, nothing later is executable).</exception>
    public static string Resolve(PlanContext context)
    {
        var process = context.Process;
        var program = process.Args[0];
        if (context.Files is not { } files)
        {
            return program;
        }
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var absolute = program.StartsWith('/') ? program : process.Cwd.TrimEnd('/') + "/" + program;
            return files.Find(context.Host, absolute) switch
            {
                null => throw new ExecutableNotFoundException(program, absolute),
                { IsExecutable: true } => program,
                var file => throw new NotExecutableException(program, absolute, file.Kind == HostFileKind.Directory),
            };
        }

        var searchPath = EnvPath(process) ?? ContainerSpec.DefaultPath;
        (string Path, HostFile File)? denied = null;
        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = directory.TrimEnd('/') + "/" + program;
            switch (files.Find(context.Host, candidate))
            {
                case { IsExecutable: true }:
                    return candidate;
                case { } file:
                    // execvp goes on after EACCES and reports it only when nothing later runs.
                    denied ??= (candidate, file);
                    break;
            }
        }

        throw denied is var (path, found)
            ? new NotExecutableException(program, path, found.Kind == HostFileKind.Directory)
            : new ExecutableNotFoundException(program, "PATH=" + searchPath);
    }

    /// <summary>The value of <c>PATH</c> in the process's environment, or null when it sets none.</summary>
    public static string? EnvPath(ProcessSpec process)
    {
        foreach (var variable in process.Env)
        {
            if (variable.StartsWith("PATH=", StringComparison.Ordinal))
            {
                return variable[5..];
            }
        }

        return null;
    }
}
