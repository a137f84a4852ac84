using System.Collections.Immutable;
using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// The lower directories of an overlay seen as the one tree the container will see, for looking paths up before
/// the start: a path is in the topmost layer that holds it. Paths are container paths (<c>/usr/bin/env</c>);
/// <see cref="Locate"/> turns one into the host path of the layer that provides it.
/// </summary>
/// <remarks>
/// Whiteouts and opaque directories are not read: a path a higher layer deleted can look present here. That errs
/// one way only — the lookup finds a program the child then cannot exec, and the child's error says so — never
/// refusing a program that is there.
/// </remarks>
internal sealed class LayeredView(IHostView host, ImmutableArray<string> layers) : IHostView
{
    public bool IsPrivileged => host.IsPrivileged;

    public uint Uid => host.Uid;

    public uint Gid => host.Gid;

    public SubordinateIds? SubordinateIds => host.SubordinateIds;

    public bool ReapsEveryChild => host.ReapsEveryChild;

    public ulong BoundingSet => host.BoundingSet;

    public int LastCapability => host.LastCapability;

    /// <summary>The host path of the topmost layer's entry at the container path <paramref name="path"/>, or null when no layer has one.</summary>
    public string? Locate(string path)
    {
        foreach (var layer in layers)
        {
            var candidate = layer.TrimEnd('/') + path;
            if (host.Inspect(candidate) is not null)
            {
                return candidate;
            }
        }

        return null;
    }

    public HostFile? Inspect(string path) => Locate(path) is { } found ? host.Inspect(found) : null;
}
