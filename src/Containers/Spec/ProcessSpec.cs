using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// The program the container runs and how (<c>process</c>). <see cref="ContainerSpec.Validate"/> refuses the fields
/// the runtime does not apply yet (capabilities, console size, AppArmor and SELinux labels, OOM score, scheduler,
/// I/O priority, CPU affinity, and the Windows-only ones).
/// </summary>
public sealed record ProcessSpec
{
    /// <summary>Whether the process gets a pseudo-terminal as its stdio (<c>terminal</c>).</summary>
    public bool Terminal { get; init; }

    /// <summary>The terminal's size (<c>consoleSize</c>); only allowed with <see cref="Terminal"/>.</summary>
    public ConsoleSize? ConsoleSize { get; init; }

    /// <summary>The identity the process runs as (<c>user</c>).</summary>
    public UserSpec User { get; init => field = value ?? new(); } = new();

    /// <summary>
    /// The program and its arguments (<c>args</c>), as <c>execve(2)</c> receives them. <c>Args[0]</c> is an absolute
    /// path or a name looked up in the container's <c>PATH</c>.
    /// </summary>
    public ImmutableArray<string> Args { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The environment as <c>KEY=VALUE</c> entries (<c>env</c>).</summary>
    public ImmutableArray<string> Env { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The absolute working directory inside the container (<c>cwd</c>).</summary>
    public string Cwd { get; init => field = value ?? ""; } = "/";

    /// <summary>The capability sets (<c>capabilities</c>); not applied yet, so only null passes <see cref="ContainerSpec.Validate"/>.</summary>
    public LinuxCapabilities? Capabilities { get; init; }

    /// <summary>Resource limits (<c>rlimits</c>), at most one per type.</summary>
    public ImmutableArray<PosixRlimit> Rlimits { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether <c>PR_SET_NO_NEW_PRIVS</c> is set, so setuid binaries cannot gain privileges (<c>noNewPrivileges</c>).</summary>
    public bool NoNewPrivileges { get; init; }

    /// <summary>The whole command line as one string (<c>commandLine</c>); OCI defines it for Windows only.</summary>
    public string? CommandLine { get; init; }

    /// <summary>The AppArmor profile the process runs under (<c>apparmorProfile</c>).</summary>
    public string? ApparmorProfile { get; init; }

    /// <summary>The process's <c>/proc/PID/oom_score_adj</c>, -1000 to 1000 (<c>oomScoreAdj</c>).</summary>
    public int? OomScoreAdj { get; init; }

    /// <summary>The scheduling policy and attributes (<c>scheduler</c>).</summary>
    public LinuxScheduler? Scheduler { get; init; }

    /// <summary>The SELinux context the process runs as (<c>selinuxLabel</c>).</summary>
    public string? SelinuxLabel { get; init; }

    /// <summary>The I/O scheduling class and priority (<c>ioPriority</c>).</summary>
    public LinuxIOPriority? IoPriority { get; init; }

    /// <summary>The CPU affinity of processes exec'd into the container (<c>execCPUAffinity</c>).</summary>
    [JsonPropertyName("execCPUAffinity")]
    public CpuAffinity? ExecCpuAffinity { get; init; }

    /// <summary>Whether both processes have the same settings, comparing collections by content and order.</summary>
    public bool Equals(ProcessSpec? other) =>
        other is not null && Terminal == other.Terminal && ConsoleSize == other.ConsoleSize && User == other.User
        && Structural.Equal(Args, other.Args) && Structural.Equal(Env, other.Env)
        && string.Equals(Cwd, other.Cwd, StringComparison.Ordinal) && Capabilities == other.Capabilities
        && Structural.Equal(Rlimits, other.Rlimits)
        && NoNewPrivileges == other.NoNewPrivileges && string.Equals(CommandLine, other.CommandLine, StringComparison.Ordinal)
        && string.Equals(ApparmorProfile, other.ApparmorProfile, StringComparison.Ordinal) && OomScoreAdj == other.OomScoreAdj
        && Scheduler == other.Scheduler && string.Equals(SelinuxLabel, other.SelinuxLabel, StringComparison.Ordinal)
        && IoPriority == other.IoPriority && ExecCpuAffinity == other.ExecCpuAffinity;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        HashCode.Combine(Terminal, ConsoleSize, User, Structural.Hash(Args), Structural.Hash(Env)),
        Cwd, Capabilities, Structural.Hash(Rlimits), NoNewPrivileges,
        HashCode.Combine(CommandLine, ApparmorProfile, OomScoreAdj, Scheduler, SelinuxLabel, IoPriority, ExecCpuAffinity));
}
