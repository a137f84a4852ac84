namespace Containers.Security;

/// <summary>
/// The knobs of <see cref="SandboxProfile"/>: how long the code may run, how much output is kept, how big its
/// <c>/tmp</c> is, and which host ids a sandbox started by root runs as.
/// </summary>
public sealed record SandboxOptions
{
    /// <summary>
    /// The first host uid and gid of the range sandboxes run as when root starts them: 2 000 000 000, far above the
    /// subordinate ranges <c>useradd</c> hands out (100 000 upwards), so a sandbox's files and processes belong to no
    /// user of the host.
    /// </summary>
    public const uint DefaultHostIdStart = 2_000_000_000;

    /// <summary>The default options.</summary>
    public static SandboxOptions Default { get; } = new();

    /// <summary>The wall-clock limit; the container is killed when it is reached (<see cref="Runtime.ContainerResult.TimedOut"/>).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most stdout and stderr kept, each; the rest is dropped and the result says so.</summary>
    public long MaxOutputBytes { get; init; } = 1 << 20;

    /// <summary>The size of the tmpfs at <c>/tmp</c>, the only writable place.</summary>
    public long TmpSizeBytes { get; init; } = 16 << 20;

    /// <summary>
    /// The first host id of the range a sandbox started by root maps its ids 0..<see cref="IdCount"/>-1 to. Every
    /// sandbox shares it unless you give each its own (see <see cref="SandboxProfile"/>). Ignored when the caller is
    /// not root: a rootless sandbox maps to the caller's own id and its subordinate range.
    /// </summary>
    public uint HostIdStart { get; init; } = DefaultHostIdStart;

    /// <summary>How many ids the range holds (65 536 by default, enough for any image's users).</summary>
    public uint IdCount { get; init; } = 65536;
}
