namespace Containers.Runtime;

/// <summary>A host path given as a device (<see cref="HostDevices.Describe"/>) does not exist or is not a character or block device.</summary>
public sealed class DeviceNotFoundException : ContainersException
{
    /// <summary>Creates the error for the host path <paramref name="path"/>.</summary>
    /// <param name="path">The host path.</param>
    /// <param name="reason">What is wrong with it.</param>
    public DeviceNotFoundException(string path, string reason)
        : base($"'{path}' cannot be given to a container as a device: {reason}")
    {
        Path = path;
    }

    /// <summary>The host path.</summary>
    public string Path { get; }
}
