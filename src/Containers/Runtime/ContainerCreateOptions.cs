using Containers.Spec;

namespace Containers.Runtime;

/// <summary>How <see cref="ContainerRuntime.CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/> wires up a container beyond what its spec says.</summary>
public sealed record ContainerCreateOptions
{
    /// <summary>The defaults: pipes for stdio, the user's process as pid 1.</summary>
    public static ContainerCreateOptions Default { get; } = new();

    /// <summary>Where stdio goes; ignored when the spec asks for a terminal (<c>process.terminal</c>).</summary>
    public ContainerStdio Stdio { get; init; } = ContainerStdio.Pipes;

    /// <summary>
    /// Whether the runtime writes the container's output to a JSON-lines log in its state folder
    /// (<see cref="ContainerState.LogPath"/>, read it with <see cref="ContainerLog.ReadAsync"/>) instead of exposing
    /// the output pipes. The log stays until the container is deleted. Needs <see cref="ContainerStdio.Pipes"/>, or a
    /// terminal (<c>process.terminal</c>): its output is then logged as stdout, and read by the log (not by
    /// <see cref="ContainerTerminal.Output"/>); its input and size stay the caller's.
    /// </summary>
    /// <example>
    /// <code>
    /// // A shell on a terminal that keeps running with nothing attached; its output goes to the log.
    /// await using var container = await runtime.CreateAsync(null, ContainerSpec.For("/bin/sh").WithTerminal(), new ContainerCreateOptions { KeepLog = true });
    /// await container.StartAsync();
    /// await container.Terminal!.Input.WriteAsync("echo hello\n"u8.ToArray());
    /// </code>
    /// </example>
    public bool KeepLog { get; init; }

    /// <summary>With <see cref="KeepLog"/>: how big the log may grow before it is rotated, and how many files it keeps (default 3 files of 10 MiB).</summary>
    public ContainerLogOptions Log { get; init; } = ContainerLogOptions.Default;

    /// <summary>
    /// Whether a small init runs as pid 1 that reaps zombies and forwards signals to the user's process, for
    /// programs that start children and do not wait for them.
    /// </summary>
    /// <remarks>
    /// The user's process is the init's child (its parent pid is 1). Signals sent to the container go on to it (all
    /// but SIGKILL, SIGSTOP, SIGCHLD, SIGTTIN and SIGTTOU), so it also gets those it has no handler for, which pid 1
    /// would ignore.
    /// The container ends when the user's process does: its exit code is that process's, or 128 plus the signal
    /// that killed it (<see cref="ContainerExit.Signal"/> is then null, as the init itself exited normally).
    /// With a terminal the user's process leads the terminal's foreground process group.
    /// Without an init the user's process is pid 1, except in a host that reaps every child (pid 1 of its own pid
    /// namespace, or SIGCHLD ignored): there the same init keeps it (as pid 2) and reports its own exit status.
    /// </remarks>
    public bool Init { get; init; }

    /// <summary>
    /// Answers the system calls that rules of the container's seccomp profile with <c>SCMP_ACT_NOTIFY</c> stop:
    /// allow, deny with an errno, or return a value of its own. Required when the profile has such rules; it serves
    /// the container's first process and its children, not processes started with <c>ExecAsync</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// // The first rule without conditions for a call decides: put the notify rule before the default's allow list.
    /// var profile = SeccompProfiles.Default with
    /// {
    ///     Syscalls = [new LinuxSyscall { Names = ["connect"], Action = "SCMP_ACT_NOTIFY" }, .. SeccompProfiles.Default.Syscalls],
    /// };
    /// var options = new ContainerCreateOptions
    /// {
    ///     SeccompNotify = call => { Console.WriteLine($"{call.Pid} calls {call.SyscallName}"); return SeccompNotifyResponse.Allow; },
    /// };
    /// </code>
    /// </example>
    public Containers.Security.Seccomp.SeccompNotifyHandler? SeccompNotify { get; init; }

    /// <summary>
    /// A copy-on-write root filesystem (an image's layers, or a directory used copy-on-write) instead of the spec's
    /// <c>root.path</c> or the host rootfs; null for none. The spec's <c>root.path</c> must then be empty, and its
    /// <c>root.readonly</c> makes the overlay read-only to the program (the runtime's mount points go to the upper directory first).
    /// </summary>
    /// <example>
    /// <code>
    /// var options = new ContainerCreateOptions { Overlay = await OverlayRootfs.FromImageAsync(store, "busybox", ct) };
    /// </code>
    /// </example>
    public OverlayRootfs? Overlay { get; init; }

    /// <summary>
    /// Files the container finds at <c>/run/secrets/NAME</c>, on a read-only tmpfs of their own, mode 0400, owned by
    /// its process's user; never in its writable layer, a commit, a log or its state (which keeps neither content
    /// nor host path). Needs a mount namespace of the container's own. Read when the start plan is compiled.
    /// </summary>
    public IReadOnlyList<ContainerSecret> Secrets { get; init; } = [];

    /// <summary>Files the runtime writes into the root before the program runs (an image's container's <c>/etc/hosts</c>).</summary>
    internal IReadOnlyList<Plan.RootFile> RootFiles { get; init; } = [];
}
