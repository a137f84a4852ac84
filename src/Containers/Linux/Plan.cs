namespace Containers.Linux;

/// <summary>
/// An encoded, immutable plan (the buffer plan.h describes) plus what the launcher needs to report on it: the
/// stage name of every op and how many fds a launch must supply. Build one with <see cref="PlanBuilder"/>; launch it
/// any number of times with <see cref="ChildProcess.Launch"/>.
/// </summary>
internal sealed class Plan
{
    internal Plan(byte[] bytes, string[] stages, PlanOpCode[] codes, int importedFdCount, bool usesSync,
        CloneFlags cloneFlags, bool hasFork, string? program, bool usesInitBinary, bool keepsProgram, ulong? launchBoundingSet = null)
    {
        Bytes = bytes;
        Stages = stages;
        Codes = codes;
        ImportedFdCount = importedFdCount;
        UsesSync = usesSync;
        CloneFlags = cloneFlags;
        HasFork = hasFork;
        Program = program;
        UsesInitBinary = usesInitBinary;
        KeepsProgram = keepsProgram;
        LaunchBoundingSet = launchBoundingSet;
    }

    /// <summary>The wire bytes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The stage name of each op, by op index ("mount /proc", "pivot_root", "exec /bin/sh").</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>The code of each op, by op index.</summary>
    public IReadOnlyList<PlanOpCode> Codes { get; }

    /// <summary>How many fds <see cref="ChildProcess.Launch"/> must be given (slots 1..N).</summary>
    public int ImportedFdCount { get; }

    /// <summary>Whether the plan has WAIT_FD ops on the sync pipe (the launcher then creates one).</summary>
    public bool UsesSync { get; }

    /// <summary>The namespaces the child is cloned into.</summary>
    public CloneFlags CloneFlags { get; }

    /// <summary>Whether the plan has a FORK op (the process that goes on is a second child).</summary>
    public bool HasFork { get; }

    /// <summary>The program of the EXEC op, if any (for messages).</summary>
    public string? Program { get; }

    /// <summary>Whether an EXEC goes through containers-init (the launch supplies its memfd).</summary>
    public bool UsesInitBinary { get; }

    /// <summary>Whether containers-init stays as the program's keeper (the launch creates the status pipe).</summary>
    public bool KeepsProgram { get; }

    /// <summary>
    /// The bounding set the plan's CAPSET op leaves, when the plan asks to be cloned from a thread that has it
    /// already (<see cref="LaunchThread.For"/>); null: from the thread that keeps the process's own.
    /// </summary>
    public ulong? LaunchBoundingSet { get; }
}
