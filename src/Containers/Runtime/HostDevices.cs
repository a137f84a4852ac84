using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>Describes device nodes of the host, to give them to a container (Docker's <c>--device</c>).</summary>
public static class HostDevices
{
    private const uint TypeMask = 0xf000;       // S_IFMT
    private const uint CharDevice = 0x2000;     // S_IFCHR
    private const uint BlockDevice = 0x6000;    // S_IFBLK

    /// <summary>
    /// The node at <paramref name="hostPath"/> (links followed, as <c>/dev/disk/by-id/…</c>) as a
    /// <c>linux.devices</c> entry at <paramref name="containerPath"/>: its type, numbers and permission bits, owned by root.
    /// </summary>
    /// <param name="hostPath">A character or block device of the host.</param>
    /// <param name="containerPath">Where the container sees it; the host path when null.</param>
    /// <exception cref="DeviceNotFoundException">Nothing is at <paramref name="hostPath"/>, or it is not a character or block device.</exception>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh", "-c", "echo hi > /dev/console0").WithDevice(HostDevices.Describe("/dev/ttyS0", "/dev/console0"), "rw");
    /// </code>
    /// </example>
    public static LinuxDevice Describe(string hostPath, string? containerPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        (uint Mode, uint Major, uint Minor)? node;
        try
        {
            node = LibC.DeviceNumbers(hostPath);
        }
        catch (IOException e)
        {
            throw new DeviceNotFoundException(hostPath, e.Message);
        }

        if (node is not { } n)
        {
            throw new DeviceNotFoundException(hostPath, "it does not exist");
        }

        var type = (n.Mode & TypeMask) switch
        {
            CharDevice => "c",
            BlockDevice => "b",
            _ => throw new DeviceNotFoundException(hostPath, "it is not a character or block device"),
        };
        return new LinuxDevice { Path = containerPath ?? hostPath, Type = type, Major = n.Major, Minor = n.Minor, FileMode = n.Mode & 0x1ff, Uid = 0, Gid = 0 };
    }
}
