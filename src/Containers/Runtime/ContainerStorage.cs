using System.Text.Json;
using Containers.Images;
using Containers.Images.Store;
using Containers.Linux;
using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>
/// The containers' own directories on disk (<see cref="ContainerRuntimeOptions.StorageDirectory"/>): one folder per
/// container with an overlay root, holding its <c>upper</c> and <c>work</c> directories and <c>container.json</c>
/// (which state directory and id it belongs to). Not under <c>/run</c>: a stopped container's changes outlive a
/// reboot until it is deleted. A folder's name is the id plus a random suffix, so runtimes with different state
/// directories never share one.
/// </summary>
internal sealed class ContainerStorage
{
    private const string OwnerFile = "container.json";
    private const UnixFileMode Traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private const UnixFileMode UpperMode = Traversable | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public ContainerStorage(string root)
    {
        Root = Path.GetFullPath(root);
    }

    /// <summary>The folder holding one folder per container.</summary>
    public string Root { get; }

    /// <summary>The default: <c>containers/</c> below the default image store root.</summary>
    public static string DefaultRoot() => Path.Combine(ImageStoreOptions.DefaultRoot, "containers");

    /// <summary>
    /// A new folder name for container <paramref name="id"/>, not created yet: its state names it first, so a crash
    /// between the two leaves nothing the next sweep does not find.
    /// </summary>
    public string NewFolder(string id) => Path.Combine(Root, $"{id}-{Guid.NewGuid().ToString("N")[..8]}");

    /// <summary>Creates the folder of container <paramref name="id"/> of the state directory <paramref name="stateDirectory"/>, with empty upper and work directories.</summary>
    public string Create(string stateDirectory, string id) => Create(NewFolder(id), stateDirectory, id);

    /// <summary>Creates <paramref name="folder"/> (from <see cref="NewFolder"/>) with empty upper and work directories.</summary>
    public string Create(string folder, string stateDirectory, string id)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        try
        {
            Directory.CreateDirectory(Root, Traversable);
            Directory.CreateDirectory(folder, Traversable);
            File.WriteAllBytes(Path.Combine(folder, OwnerFile), JsonSerializer.SerializeToUtf8Bytes(new StorageOwner(stateDirectory, id), RuntimeJsonContext.Default.StorageOwner));
            Directory.CreateDirectory(Path.Combine(folder, Plan.RootfsStep.UpperDirectory), UpperMode);
            Directory.CreateDirectory(Path.Combine(folder, Plan.RootfsStep.WorkDirectory), Traversable);
            return folder;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            Remove(folder);
            throw ContainersIOException.From(e, $"creating the directories of container '{id}'", folder);
        }
    }

    /// <summary>
    /// Waits for and takes the lock of a container's folder, which a copy from the stopped container holds while its
    /// root is mounted (<see cref="StoppedRoot"/>) and a removal while it removes the folder: a removal waits for a
    /// copy to end, and a copy or removal that comes after finds the folder gone (null). The lock is on the folder
    /// itself (<see cref="DirectoryLock"/>): a lock file inside would be re-created by a waiter in the folder being removed.
    /// </summary>
    public static Task<DirectoryLock?> LockAsync(string folder, CancellationToken cancellationToken) =>
        DirectoryLock.AcquireAsync(folder, cancellationToken);

    /// <summary>
    /// Takes the lock of a container's folder (<see cref="LockAsync"/>) when nobody holds it: <c>Free</c> is false
    /// while someone does; <c>Lock</c> is null when the folder is gone.
    /// </summary>
    public static (bool Free, DirectoryLock? Lock) TryLock(string folder) => DirectoryLock.TryAcquire(folder);

    /// <summary>
    /// Removes a container's folder and everything in it (its upper directory may hold read-only directories and,
    /// after an overlay ran, a work directory only its owner may enter); a folder already gone is fine. Without root,
    /// directories the container's users own under subordinate ids are given back to the caller first
    /// (<see cref="ForeignOwners"/>), level by level as the removal meets them.
    /// </summary>
    /// <exception cref="ContainersIOException">Something in it could not be removed.</exception>
    public static void Remove(string folder)
    {
        var errno = ForeignOwners.Remove(folder);

        // ENOENT: another remover (a concurrent delete or stale sweep) got there first, which is what was wanted.
        if (errno != 0 && errno != Errno.ENOENT)
        {
            throw new ContainersIOException(
                $"removing the container directory {folder} failed: {Errno.Name(errno)} ({Errno.Describe(errno)}): remove it by hand, as the user that owns it",
                folder, null);
        }
    }

    /// <summary>
    /// Removes the folders of <paramref name="states"/>'s containers that have no state entry any more (a process
    /// that died between creating the folder and the state, or state lost with <c>/run</c> at a reboot). Folders
    /// younger than a minute are left to a creator that may still be writing the state.
    /// </summary>
    public int RemoveOrphans(StateDirectory states, ILogger logger)
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var owner = ReadOwner(folder);
            if (owner is null || owner.StateDirectory != states.Root || Directory.GetCreationTimeUtc(folder) > DateTime.UtcNow.AddMinutes(-1))
            {
                continue;
            }

            if (states.TryRead(owner.Id) is { } state && state.ContainerDirectory == folder)
            {
                continue;
            }

            try
            {
                Remove(folder);
                RuntimeLog.OrphanStorageRemoved(logger, folder);
                removed++;
            }
            catch (ContainersIOException e)
            {
                RuntimeLog.OrphanStorageKept(logger, e, folder);
            }
        }

        return removed;
    }

    private static StorageOwner? ReadOwner(string folder)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(folder, OwnerFile)), RuntimeJsonContext.Default.StorageOwner);
        }
        catch (Exception e) when (e is JsonException || ContainersIOException.IsIO(e))
        {
            return null;
        }
    }
}

/// <summary>Whose a container folder is: <c>container.json</c> in it.</summary>
/// <param name="StateDirectory">The state directory of the runtime that created it.</param>
/// <param name="Id">The container's id there.</param>
internal sealed record StorageOwner(string StateDirectory, string Id);
