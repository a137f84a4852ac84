using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// <paramref name="host"/> with <see cref="IHostView.ReapsEveryChild"/> fixed to the value a caller read once, so a
/// plan is compiled for exactly the value its caller checks again later (<see cref="RunPlans"/>), even if the
/// SIGCHLD disposition changes during the compilation.
/// </summary>
internal sealed class PinnedReapingView(IHostView host, bool reapsEveryChild) : IHostView
{
    public bool IsPrivileged => host.IsPrivileged;

    public uint Uid => host.Uid;

    public uint Gid => host.Gid;

    public SubordinateIds? SubordinateIds => host.SubordinateIds;

    public bool ReapsEveryChild => reapsEveryChild;

    public ulong BoundingSet => host.BoundingSet;

    public int LastCapability => host.LastCapability;

    public HostFile? Inspect(string path) => host.Inspect(path);
}
