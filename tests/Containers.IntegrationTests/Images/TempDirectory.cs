namespace Containers.IntegrationTests.Images;

/// <summary>A fresh directory (under the system temp dir by default), removed with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
        : this(System.IO.Path.GetTempPath())
    {
    }

    public TempDirectory(string parent)
    {
        Path = System.IO.Path.Combine(parent, "containers-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>
    /// Removes the directory as the library removes its own: without root, what a rootless store gave other owners
    /// under subordinate ids is given back first.
    /// </summary>
    public void Dispose()
    {
        var errno = Containers.Linux.ForeignOwners.Remove(Path);
        if (errno != 0 && errno != Containers.Linux.Errno.ENOENT)
        {
            throw new IOException($"removing {Path} failed: {Containers.Linux.Errno.Name(errno)}");
        }
    }
}
