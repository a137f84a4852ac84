using System.Globalization;
using System.IO.Pipelines;
using Containers.Linux;
using Containers.Runtime.Plan;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// A process started inside a running container by <see cref="Container.ExecAsync(Containers.Spec.ProcessSpec, ContainerStdio, CancellationToken)"/>. Disposing it kills it if
/// it still runs.
/// </summary>
public sealed class ContainerExec : IAsyncDisposable
{
    private const int SigKill = 9;

    private readonly ContainerProcess _process;
    private readonly StdioPipes? _stdio;

    private ContainerExec(ContainerProcess process, StdioPipes? stdio, ContainerTerminal? terminal)
    {
        _process = process;
        _stdio = stdio;
        Terminal = terminal;
    }

    /// <summary>The process's host pid.</summary>
    public int Pid => _process.Pid;

    /// <summary>The process's standard input.</summary>
    /// <exception cref="InvalidOperationException">The exec's stdio is not pipes.</exception>
    public PipeWriter Stdin => _stdio?.Stdin ?? throw NoPipes();

    /// <summary>The process's standard output.</summary>
    /// <exception cref="InvalidOperationException">The exec's stdio is not pipes.</exception>
    public PipeReader Stdout => _stdio?.Stdout ?? throw NoPipes();

    /// <summary>The process's standard error.</summary>
    /// <exception cref="InvalidOperationException">The exec's stdio is not pipes.</exception>
    public PipeReader Stderr => _stdio?.Stderr ?? throw NoPipes();

    /// <summary>The pseudo-terminal when the process spec asks for one, otherwise null.</summary>
    public ContainerTerminal? Terminal { get; }

    /// <summary>Waits for the process to end.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<ContainerExit> WaitAsync(CancellationToken cancellationToken = default) => _process.Exited.WaitAsync(cancellationToken);

    /// <summary>Sends <paramref name="signal"/> to the process.</summary>
    /// <param name="signal">The signal number.</param>
    public void Signal(int signal) => _process.Signal(signal);

    /// <summary>
    /// Reads the process's stdout and stderr to the end and waits for it: the one-call form of an exec. Each stream
    /// keeps at most 16 MiB, as <see cref="Container.CollectAsync"/> does; the result says when the rest was discarded.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="InvalidOperationException">The exec's stdio is not pipes.</exception>
    public Task<ContainerResult> CollectAsync(CancellationToken cancellationToken = default) =>
        ContainerResult.CollectAsync(Stdout, Stderr, WaitAsync, cancellationToken);

    /// <summary>Kills the process if it still runs and releases its pipes.</summary>
    public async ValueTask DisposeAsync()
    {
        _process.Signal(SigKill);
        await _process.DisposeAsync().ConfigureAwait(false);
        if (_stdio is not null)
        {
            await _stdio.DisposeAsync().ConfigureAwait(false);
        }

        if (Terminal is not null)
        {
            await Terminal.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static async Task<ContainerExec> StartAsync(
        Container container, ContainerProcess target, ProcessSpec process, ContainerStdio stdio, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var (programPid, program) = container.State.Init ? OpenInitChild(target.Pid) : (target.Pid, null);
            using var programPidFd = program;

            // The program's own root: an init's is out of an unprivileged caller's reach (it never execs).
            // An exec'd process is held by the container's limits as its first process is.
            var (cgroup, placement) = container.CgroupPlacement;
            var plan = ContainerPlan.CompileExec(container.Spec, process, stdio, programPid, HostView.Current, placement,
                placement == CgroupPlacement.JoinsItself ? [.. cgroup!.Paths.Keys] : null);
            var (launched, pipes, terminal) = await ContainerProcess.LaunchAsync(
                plan, program ?? target.PidFd, null, null, cancellationToken, cgroup, process.OomScoreAdj).ConfigureAwait(false);
            var exec = new ContainerExec(launched, pipes, terminal);
            try
            {
                await launched.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await exec.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            RuntimeLog.ExecStarted(logger, container.Id, launched.Pid, process.Args);
            _ = launched.Exited.ContinueWith(
                t => RuntimeLog.ExecExited(logger, container.Id, launched.Pid, t.Result.ExitCode, t.Result.Signal),
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return exec;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            var error = ContainersIOException.From(e, $"exec in container '{container.Id}'");
            RuntimeLog.ExecFailed(logger, error, container.Id, process.Args);
            throw error;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RuntimeLog.ExecFailed(logger, e, container.Id, process.Args);
            throw;
        }
    }

    /// <summary>
    /// A pidfd for the user's program under an init. The init never execs and stays non-dumpable, so without
    /// CAP_SYS_PTRACE setns through its pidfd fails; the program shares all its namespaces.
    /// </summary>
    private static (int Pid, SafeFileHandle PidFd) OpenInitChild(int init)
    {
        var children = ReadChildren(init);
        if (children.Length == 0 || !int.TryParse(children[0], CultureInfo.InvariantCulture, out var pid))
        {
            throw new ContainersException($"the container's init (pid {init}) has no child: its program has exited");
        }

        var fd = Shim.PidFdOpen(pid);
        if (fd < 0)
        {
            throw new ContainersException($"pidfd_open({pid}) for the container's program failed: {Errno.Name(-fd)}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);

        // Checked after opening: the pidfd pins the pid, so a process still the init's child is the program.
        if (!ReadChildren(init).Contains(children[0]))
        {
            handle.Dispose();
            throw new ContainersException($"the container's init (pid {init}) has no child: its program has exited");
        }

        return (pid, handle);
    }

    private static string[] ReadChildren(int init)
    {
        try
        {
            return File.ReadAllText($"/proc/{init}/task/{init}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException($"the container's init (pid {init}) has gone: the container has stopped", e);
        }
    }

    private static InvalidOperationException NoPipes() =>
        new("this exec's stdio is not pipes: pass ContainerStdio.Pipes and a process spec without a terminal");
}
