using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// One entry of <c>linux.uidMappings</c> or <c>linux.gidMappings</c>: ids
/// <c>[ContainerId, ContainerId + Size)</c> inside the user namespace are ids <c>[HostId, HostId + Size)</c>
/// outside it, as a line of <c>/proc/PID/uid_map</c>.
/// </summary>
/// <param name="ContainerId">The first id inside the container (<c>containerID</c>).</param>
/// <param name="HostId">The first id on the host (<c>hostID</c>).</param>
/// <param name="Size">How many consecutive ids are mapped (<c>size</c>); must be at least 1.</param>
public sealed record LinuxIdMapping(
    [property: JsonPropertyName("containerID")] uint ContainerId,
    [property: JsonPropertyName("hostID")] uint HostId,
    uint Size);
