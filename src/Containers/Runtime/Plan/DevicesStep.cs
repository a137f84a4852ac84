using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The spec's device nodes (<c>linux.devices</c>), made after the mounts so that they land in the container's own
/// <c>/dev</c>: parents created, then <c>mknod</c> with the node's permission bits (the plan's umask is 0 here), then
/// its owner. Whether the container may open one is the device cgroup's decision, not the node's.
/// </summary>
internal static class DevicesStep
{
    private const uint DirectoryMode = 0x1ed; // 0755
    private const uint DefaultMode = 0x1b6;   // 0666

    public static void Apply(PlanContext context)
    {
        var devices = context.Linux.Devices;
        if (devices.IsEmpty || !context.OwnsRoot)
        {
            return;
        }

        if (context.InUserNamespace)
        {
            // The validator refuses this when the spec names the namespace; a rootless start adds one itself.
            throw new InvalidSpecException([new SpecError("linux.devices",
                "device nodes cannot be made in a user namespace, as a rootless container has (mknod needs CAP_MKNOD in the host's): bind the host's node with a mount instead")]);
        }

        var plan = context.Plan;
        foreach (var device in devices)
        {
            if (Path.GetDirectoryName(device.Path) is { } parent && parent != "/")
            {
                plan.MakeDirectory(parent, DirectoryMode, parents: true, stage: $"create the parent of device {device.Path}");
            }

            plan.MakeNode(device.Path, TypeBits(device.Type) | (device.FileMode ?? DefaultMode), (uint)device.Major, (uint)device.Minor, stage: $"create device {device.Path}");
            if ((device.Uid ?? 0) != 0 || (device.Gid ?? 0) != 0)
            {
                plan.Chown(device.Path, device.Uid ?? 0, device.Gid ?? 0, $"chown device {device.Path}");
            }
        }
    }

    private static uint TypeBits(string type) => type switch
    {
        "b" => 0x6000, // S_IFBLK
        "p" => 0x1000, // S_IFIFO
        _ => 0x2000,   // S_IFCHR, also for 'u' (unbuffered): Linux has no other kind
    };
}
