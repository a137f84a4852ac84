namespace Containers.Runtime;

/// <summary>
/// A copy that keeps owners (<see cref="ContainerCopyOptions.KeepOwners"/>, <c>cp -a</c>) cannot give an entry its
/// owner: copied in, the source's ids are outside the container's id mappings; copied out to the host without root,
/// the ids are not the caller's own. Raised before the entry is made, once what the copy had made before it is
/// removed (a copy is all or nothing); the message says what to do.
/// </summary>
/// <example>
/// <code>
/// try { await container.CopyToAsync("./data", "/srv", new ContainerCopyOptions { KeepOwners = true }, ct); }
/// catch (CopyOwnerException e) { Console.Error.WriteLine($"{e.Path} belongs to {e.Uid}:{e.Gid}: {e.Message}"); }
/// </code>
/// </example>
public sealed class CopyOwnerException : ContainersIOException
{
    /// <summary>Creates the error for the entry <paramref name="path"/> whose owner <paramref name="uid"/>:<paramref name="gid"/> cannot be kept.</summary>
    public CopyOwnerException(string path, uint uid, uint gid, string problem)
        : base($"cannot keep the owner {uid}:{gid} of '{path}': {problem}", path, null)
    {
        Uid = uid;
        Gid = gid;
    }

    /// <summary>The uid that could not be kept, as the container has it (or would).</summary>
    public uint Uid { get; }

    /// <summary>The gid that could not be kept, as the container has it (or would).</summary>
    public uint Gid { get; }
}
