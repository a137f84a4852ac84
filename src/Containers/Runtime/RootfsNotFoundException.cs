namespace Containers.Runtime;

/// <summary>The spec's root filesystem directory (<c>root.path</c>) does not exist on the host, or is not a directory.</summary>
public sealed class RootfsNotFoundException : ContainersException
{
    /// <summary>Creates the error for the root filesystem at <paramref name="path"/>.</summary>
    /// <param name="path">The host path the spec names as <c>root.path</c>.</param>
    public RootfsNotFoundException(string path)
        : base($"root filesystem '{path}' not found (root.path must name an existing directory on the host): " +
               "unpack the image there first, or fix the path")
    {
        Path = path;
    }

    /// <summary>The host path the spec names as the root filesystem.</summary>
    public string Path { get; }
}
