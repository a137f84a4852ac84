using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>
/// The runtime's state directory: one folder per container holding <c>state.json</c>, written atomically (a
/// temporary file renamed over the old one) so a reader in another process never sees half a record.
/// </summary>
internal sealed partial class StateDirectory
{
    private const string StateFile = "state.json";

    /// <summary>The marker a commit leaves while it holds the container frozen (see <see cref="TryMarkCommitFreeze"/>).</summary>
    private const string CommitFreezeMarker = "commit-freeze";

    /// <summary>The spec a container was created from, in its folder (an OCI bundle's name for it).</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Numbers this process's temporary files.</summary>
    private static long _writes;

    public StateDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        Events = new EventJournal(Root);
        try
        {
            CreatePrivateDirectory(Root);
            CheckOwned(Root);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"creating the state directory {Root}", Root);
        }
    }

    public string Root { get; }

    /// <summary>The containers' events, which every process acting on them appends to.</summary>
    public EventJournal Events { get; }

    /// <summary>Records <paramref name="events"/>; a failure is logged, never the failure of the change it records.</summary>
    public void Record(ILogger logger, params ReadOnlySpan<ContainerEvent> events)
    {
        try
        {
            Events.Append(events);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            RuntimeLog.EventNotRecorded(logger, e, events[0].Id, EventJournal.Name(events[0].Action));
        }
    }

    /// <summary>The default: <c>/run/containers-net</c> as root, <c>$XDG_RUNTIME_DIR/containers-net</c> otherwise.</summary>
    public static string DefaultRoot()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/run/containers-net";
        }

        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtimeDir)
            ? Path.Combine(Path.GetTempPath(), "containers-net-" + Environment.UserName)
            : Path.Combine(runtimeDir, "containers-net");
    }

    public static void ValidateId(string id)
    {
        if (!IdPattern().IsMatch(id))
        {
            throw new InvalidContainerIdException(id);
        }
    }

    public string FolderOf(string id) => Path.Combine(Root, id);

    /// <summary>Claims <paramref name="initial"/>'s id: creating <c>state.json</c> exclusively makes two creators of one id race safely.</summary>
    public void Claim(ContainerState initial)
    {
        var folder = FolderOf(initial.Id);
        CreatePrivateDirectory(folder);
        try
        {
            CreateFile(Path.Combine(folder, StateFile), ContainerStateJson.Write(initial));
        }
        catch (IOException) when (File.Exists(Path.Combine(folder, StateFile)))
        {
            throw new ContainerAlreadyExistsException(initial.Id);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"writing the state of container '{initial.Id}'", folder);
        }
    }

    public void Write(ContainerState state) =>
        Replace(state.Id, StateFile, ContainerStateJson.Write(state));

    /// <summary>Writes the container's <c>config.json</c> (the spec it was created from).</summary>
    public void WriteConfig(string id, byte[] json) => Replace(id, ConfigFile, json);

    // Temp + rename so readers never see half a file. No fsync (unlike Linux.AtomicFile): the state describes live
    // processes, which a crash of the machine ends too, and this runs on every start.
    private void Replace(string id, string name, byte[] content)
    {
        var folder = FolderOf(id);
        // Unique within this process by the counter, across processes by the pid; created exclusively all the same.
        var temp = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $".{name}.{Environment.ProcessId}.{Interlocked.Increment(ref _writes)}"));
        try
        {
            CreateFile(temp, content);
            Replace(temp, Path.Combine(folder, name));
        }
        catch
        {
            try
            {
                Unlink(temp);
            }
            catch (Exception e) when (ContainersIOException.IsIO(e))
            {
                // The write's own error is the one to report; a temporary left behind goes with the folder.
            }

            throw;
        }
    }

    public ContainerState? TryRead(string id)
    {
        try
        {
            // open and read only: a listing reads one per container, and a FileStream costs more than the read.
            return Linux.LibC.TryReadBytes(Path.Combine(FolderOf(id), StateFile)) is { } json ? ContainerStateJson.Read(json) : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"reading the state of container '{id}'", FolderOf(id));
        }
    }

    public ContainerState Read(string id) =>
        TryRead(id) ?? throw new ContainerNotFoundException(id, Root);

    public IReadOnlyList<ContainerState> List()
    {
        var states = new List<ContainerState>();
        try
        {
            foreach (var folder in Directory.EnumerateDirectories(Root))
            {
                if (TryRead(Path.GetFileName(folder)) is { } state)
                {
                    states.Add(state);
                }
            }
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"listing the state directory {Root}", Root);
        }

        states.Sort((a, b) => a.Created.CompareTo(b.Created));
        return states;
    }

    /// <summary>
    /// Removes a container's state folder, and first what its state says the container owns elsewhere (its own
    /// directory, its image lease), so nothing is left once the state is gone. When those cannot be removed the
    /// state stays and the error says why: removing again retries.
    /// </summary>
    /// <param name="id">The container.</param>
    /// <param name="known">
    /// Its state as the process that writes it holds it, which is what the folder has: saves reading it back. Null: read
    /// from the folder.
    /// </param>
    public void Remove(string id, ContainerState? known = null)
    {
        if ((known ?? TryRead(id)) is { } state)
        {
            ReleaseStorage(state);
        }

        var folder = FolderOf(id);
        try
        {
            // The two files every container has, by name, then the folder; a folder with more in it (a log, a commit's
            // marker, a crashed write's temporary) is deleted recursively. Missing ones were removed by another
            // process (a concurrent rm, or the owner's own cleanup).
            Unlink(Path.Combine(folder, ConfigFile));
            Unlink(Path.Combine(folder, StateFile));
            Unlink(folder, directory: true);
        }
        catch (IOException e) when (e.HResult == Linux.Errno.ENOTEMPTY)
        {
            RemoveRecursively(id, folder);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"removing the state of container '{id}'", folder);
        }
    }

    private static void RemoveRecursively(string id, string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already removed by another process.
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"removing the state of container '{id}'", folder);
        }
    }

    /// <summary>Removes the container's own directory and its image lease, when it has them.</summary>
    public static void ReleaseStorage(ContainerState state)
    {
        if (state.ContainerDirectory is { } directory)
        {
            ContainerStorage.Remove(directory);
        }

        if (state.LeaseFile is { } lease)
        {
            try
            {
                File.Delete(lease);
            }
            catch (DirectoryNotFoundException)
            {
                // The store itself is gone (removed with its leases): nothing is left to release.
            }
            catch (Exception e) when (ContainersIOException.IsIO(e))
            {
                throw ContainersIOException.From(e, $"releasing the image lease of container '{state.Id}'", lease);
            }
        }
    }

    /// <summary>
    /// Records, before a commit freezes container <paramref name="id"/>, which process froze it: a symbolic link
    /// <c>commit-freeze</c> in its folder whose target is <c>PID:STARTTIME:PIDNS</c>, with this process's pid namespace
    /// (made atomically and only when none is there). A commit killed while the container is frozen leaves it, and
    /// whoever finds it with that process gone thaws the container (<see cref="ContainerRuntime.ThawAbandonedCommit"/>):
    /// only a process of that pid namespace can tell. False when a marker is already there.
    /// </summary>
    public bool TryMarkCommitFreeze(string id, ProcessIdentity committer)
    {
        try
        {
            File.CreateSymbolicLink(CommitFreezePath(id), string.Create(CultureInfo.InvariantCulture, $"{committer.Pid}:{committer.StartTime}:{ProcessIdentity.CurrentPidNamespace}"));
            return true;
        }
        catch (IOException) when (new FileInfo(CommitFreezePath(id)).LinkTarget is not null)
        {
            return false;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"marking container '{id}' as frozen by a commit", FolderOf(id));
        }
    }

    /// <summary>
    /// The process whose commit froze container <paramref name="id"/> and its pid namespace (0 in a marker without
    /// it), or null when no commit marked it; a marker that cannot be parsed names no live process.
    /// </summary>
    public (ProcessIdentity Committer, ulong PidNamespace)? ReadCommitFreeze(string id)
    {
        string? target;
        try
        {
            target = new FileInfo(CommitFreezePath(id)).LinkTarget;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            return null;
        }

        if (target is null)
        {
            return null;
        }

        var parts = target.Split(':');
        var pidNamespace = 0UL;
        return parts.Length is 2 or 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && (parts.Length == 2 || ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out pidNamespace))
            ? (new ProcessIdentity(pid, start), pidNamespace)
            : (new ProcessIdentity(0, 0), 0);
    }

    /// <summary>Removes the marker <see cref="TryMarkCommitFreeze"/> made; none is fine.</summary>
    public void ClearCommitFreeze(string id)
    {
        try
        {
            File.Delete(CommitFreezePath(id));
        }
        catch (DirectoryNotFoundException)
        {
            // The container was removed meanwhile: its marker went with it.
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"removing the commit marker of container '{id}'", FolderOf(id));
        }
    }

    /// <summary>The ids of the containers a commit marked as frozen (<see cref="TryMarkCommitFreeze"/>).</summary>
    public IEnumerable<string> CommitFrozen() =>
        Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>()
            .Where(id => new FileInfo(CommitFreezePath(id)).LinkTarget is not null);

    private string CommitFreezePath(string id) => Path.Combine(FolderOf(id), CommitFreezeMarker);

    /// <summary>
    /// Removes entries whose owner and container process are both gone (a host that died without cleaning up).
    /// An entry whose owner lives is someone's container; one whose process lives can still be listed and killed.
    /// </summary>
    public int RemoveStale(ILogger logger)
    {
        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var id = Path.GetFileName(folder);
            var state = TryRead(id);
            if (state is null)
            {
                // A folder without a readable state: a crash between mkdir and the first write. Old ones only, so a
                // creator in another process that is between those two steps keeps its folder.
                // A folder removed meanwhile (by its owner or another sweep) reads as made in 1601: skipped too.
                var created = Directory.GetCreationTimeUtc(folder);
                if (created.Year > 1601 && created < DateTime.UtcNow.AddMinutes(-1))
                {
                    Remove(id);
                    removed++;
                }

                continue;
            }

            if (TryRemoveStale(state, logger) == StaleEntry.Removed)
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>What <see cref="TryRemoveStale"/> did with an entry.</summary>
    public enum StaleEntry
    {
        /// <summary>The entry is someone's container: its owner or its process lives, or it keeps a log.</summary>
        Live,

        /// <summary>The entry was a leftover and is gone.</summary>
        Removed,

        /// <summary>
        /// The entry is a leftover that another process holds (a copy from it, or another sweep removing it), or
        /// that could not be removed: it is left for a later sweep.
        /// </summary>
        Left,
    }

    /// <summary>Removes one entry if it is a leftover (<see cref="IsStale"/>) that nobody holds.</summary>
    public StaleEntry TryRemoveStale(ContainerState state, ILogger logger)
    {
        // Read again once the owner is seen dead: the first read may predate its last write (the exit status a
        // detached container's owner records just before it exits), and a dead owner writes no more.
        if (!IsStale(state) || TryRead(state.Id) is not { } last || !IsStale(last))
        {
            return StaleEntry.Live;
        }

        // One sweep at a time per entry (each open and listing sweeps): the one holding the folder's lock records the
        // entry's die and destroy, and another finds the entry gone once it has the lock.
        using var sweeping = Linux.DirectoryTree.OpenDirectory(FolderOf(last.Id));
        if (sweeping.IsInvalid || Linux.FileSystemCalls.Flock(sweeping, Linux.FileSystemCalls.LockEx | Linux.FileSystemCalls.LockNb) != 0
            || TryRead(last.Id) is null)
        {
            return StaleEntry.Left;
        }

        // A copy from the stopped container, or another sweep removing it, holds its root lock: left to them.
        var (free, storage) = last.ContainerDirectory is { } directory ? ContainerStorage.TryLock(directory) : (true, null);
        using var held = storage;
        if (!free)
        {
            return StaleEntry.Left;
        }

        RuntimeLog.StaleContainerRemoved(logger, last.Id, last.OwnerPid, last.Pid);
        try
        {
            Remove(last.Id);
            var now = DateTimeOffset.UtcNow;
            var destroy = new ContainerEvent(now, last.Id, ContainerEventAction.Destroy) { Image = last.Image?.Reference };
            if (last.Status.CanKill() && !Events.Holds(last.Id, ContainerEventAction.Die, last.Created))
            {
                // Its owner died before it recorded the process's end: the die is this sweep's to record, and how the
                // process ended is lost with the owner, its parent. Neither an exit code nor a signal says so. An
                // owner records the die before it writes the stopped state, so a state still running may be one
                // whose owner died between the two: the journal then has this container's die, since its creation,
                // and it is not recorded twice. (A stopped state always has its die.)
                Record(logger, destroy with { Action = ContainerEventAction.Die }, destroy);
            }
            else
            {
                Record(logger, destroy);
            }

            return StaleEntry.Removed;
        }
        catch (ContainersIOException e)
        {
            // One leftover that cannot be removed (its directory owned by another user, say) is retried by the next
            // sweep; it must not stop this runtime from opening.
            RuntimeLog.StorageRemoveFailed(logger, e, last.Id);
            return StaleEntry.Left;
        }
    }

    /// <summary>
    /// Whether a state is a leftover: its owner and its process have both gone, and it is not a stopped container
    /// whose log is kept for <c>logs</c> and <c>rm</c>. Never one whose owner is in another pid namespace: from here
    /// its pids name other processes or none, so a live owner would look dead (a runtime in a container, or in a
    /// host that is pid 1 of its namespace, sharing this directory would remove the others' live containers).
    /// </summary>
    private static bool IsStale(ContainerState state) =>
        !(state.Status == ContainerStatus.Stopped && state.LogPath is not null)
        && state.IsObservableHere()
        && !new ProcessIdentity(state.OwnerPid, state.OwnerStartTime).IsAlive
        && !(state.Pid > 0 && new ProcessIdentity(state.Pid, state.PidStartTime).IsAlive);

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        // Only the owner may list or read state; others may pass through (0711), because a container's root in a user
        // namespace is another host user and must reach the container's folder, the mount point of its root.
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    /// <summary>
    /// Refuses a state directory another user could have made or can change: in a shared directory such as <c>/tmp</c>
    /// (the fallback without <c>XDG_RUNTIME_DIR</c>) another user may create it first, or put a symlink there.
    /// </summary>
    private static void CheckOwned(string path)
    {
        var uid = Linux.LibC.geteuid();
        var (owner, mode) = Linux.LibC.OwnerAndMode(path) ?? throw new DirectoryNotFoundException($"{path} vanished");
        const uint TypeMask = 0xf000, DirectoryType = 0x4000, GroupOrOtherWrite = 0x12;
        if ((mode & TypeMask) != DirectoryType || owner != uid || (mode & GroupOrOtherWrite) != 0)
        {
            throw new ContainersIOException(
                $"the state directory {path} is not a directory owned by this user (uid {uid}) and writable only by it "
                + $"(found uid {owner}, mode {Convert.ToString(mode & 0xfff, 8)}{((mode & TypeMask) == 0xa000 ? ", a symlink" : "")}): "
                + "another user may have made it; remove it, or set XDG_RUNTIME_DIR to a directory of your own",
                path, null);
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")]
    private static partial Regex IdPattern();
}
