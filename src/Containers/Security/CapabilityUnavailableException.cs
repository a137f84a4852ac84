namespace Containers.Security;

/// <summary>
/// The spec asks for capabilities this host's bounding set does not have (<c>CapBnd</c> in <c>/proc/self/status</c>):
/// no process started from here can hold them, so the container would run with less than it asked for.
/// </summary>
public sealed class CapabilityUnavailableException : ContainersException
{
    /// <summary>Creates the error for the capabilities in <paramref name="missing"/>.</summary>
    /// <param name="missing">The capability names the host's bounding set lacks.</param>
    public CapabilityUnavailableException(IReadOnlyList<string> missing)
        : base($"{string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not in this host's capability bounding set "
               + "(CapBnd in /proc/self/status), so no container started from this process can hold "
               + $"{(missing.Count == 1 ? "it" : "them")}: remove {(missing.Count == 1 ? "it" : "them")} from process.capabilities "
               + "(or --cap-add), or run from a process whose bounding set has it")
    {
        Missing = missing;
    }

    /// <summary>The capability names the host's bounding set lacks.</summary>
    public IReadOnlyList<string> Missing { get; }
}
