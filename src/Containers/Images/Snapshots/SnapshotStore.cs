using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Containers.Images.Layers;
using Containers.Linux;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Images.Snapshots;

/// <summary>
/// Snapshot directories keyed by chain id, each holding one layer's diff with whiteouts already in overlayfs form,
/// so the snapshots of an image stack directly as overlay lower dirs. A snapshot is applied into <c>tmp-*</c>,
/// synced with one <c>syncfs</c> and renamed into place: it exists only complete. Several processes may share a
/// store; a crashed apply leaves a <c>tmp-*</c> directory that <see cref="CleanupIncomplete"/> removes.
/// </summary>
/// <example>
/// <code>
/// var store = new SnapshotStore("/var/lib/containers-net/snapshots", new SnapshotStoreOptions());
/// Digest chainId = SnapshotStore.ChainId(parentChainId, diffId);
/// string lowerDir = await store.EnsureAsync(chainId, diffId, ct => Task.FromResult&lt;Stream&gt;(File.OpenRead(blobPath)),
///     LayerCompression.Gzip, progress: null, cancellationToken);
/// </code>
/// </example>
internal sealed class SnapshotStore
{
    private const string TemporaryPrefix = "tmp-";
    private const string LockFileName = "tmp.lock";

    private readonly SnapshotStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Opens (creating if needed) the store at <paramref name="root"/>.</summary>
    /// <param name="root">The snapshots directory, for example <c>&lt;store&gt;/snapshots</c>.</param>
    /// <param name="options">Rootless mode and size quotas.</param>
    /// <param name="logger">Receives warnings (for example xattrs a rootless store cannot hold).</param>
    public SnapshotStore(string root, SnapshotStoreOptions options, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(options);
        Root = Path.GetFullPath(root);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        try
        {
            Directory.CreateDirectory(Root);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SnapshotException($"cannot create the snapshot store at '{Root}': {exception.Message}", exception);
        }
    }

    /// <summary>The store's directory.</summary>
    public string Root { get; }

    /// <summary>The chain id of a layer: its diff id for the first layer, else sha256 of "parent diffId".</summary>
    public static Digest ChainId(Digest? parentChainId, Digest diffId)
    {
        if (parentChainId is not Digest parent)
        {
            return diffId;
        }

        return Digest.Sha256(Encoding.ASCII.GetBytes($"{parent} {diffId}"));
    }

    /// <summary>The snapshot directory of <paramref name="chainId"/> (<c>&lt;root&gt;/&lt;algorithm&gt;/&lt;hex&gt;</c>).</summary>
    public string PathOf(Digest chainId) => Path.Combine(Root, chainId.Algorithm, chainId.Hex);

    /// <summary>Whether the snapshot of <paramref name="chainId"/> is complete and present.</summary>
    public bool Exists(Digest chainId) => Directory.Exists(PathOf(chainId));

    /// <summary>The chain ids of all complete snapshots.</summary>
    public IEnumerable<Digest> List()
    {
        foreach (string algorithm in new[] { "sha256", "sha512" })
        {
            string dir = Path.Combine(Root, algorithm);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (string entry in Directory.EnumerateDirectories(dir))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(entry)}", out var digest))
                {
                    yield return digest;
                }
            }
        }
    }

    /// <summary>
    /// Returns the snapshot directory of <paramref name="chainId"/>, applying the layer first if it is missing. The
    /// layer is applied into a temporary directory while its diff id is verified, synced, then renamed into place;
    /// on any failure nothing becomes visible. When two processes apply the same snapshot at once, one rename wins
    /// and the other discards its copy.
    /// </summary>
    /// <param name="chainId">The snapshot's key (see <see cref="ChainId"/>).</param>
    /// <param name="diffId">The expected sha256 of the uncompressed layer.</param>
    /// <param name="openBlob">Opens the layer blob; called only when the snapshot is missing.</param>
    /// <param name="compression">How the blob is compressed.</param>
    /// <param name="progress">Receives the number of blob bytes read so far.</param>
    /// <param name="cancellationToken">Cancels the apply; the partial snapshot is removed.</param>
    /// <exception cref="InvalidLayerException">The layer is malformed, hostile, too large or its diff id differs.</exception>
    /// <exception cref="SnapshotException">A system call failed (for example ENOSPC).</exception>
    public async Task<string> EnsureAsync(
        Digest chainId,
        Digest diffId,
        Func<CancellationToken, Task<Stream>> openBlob,
        LayerCompression compression,
        IProgress<long>? progress,
        CancellationToken cancellationToken) =>
        (await EnsureAppliedAsync(chainId, diffId, openBlob, compression, proven: null, progress, cancellationToken).ConfigureAwait(false)).Path;

    /// <summary>
    /// Decompresses a layer blob and checks that it hashes to <paramref name="diffId"/>, without applying it: how a
    /// new blob for a layer whose snapshot already exists is proven before it is stored.
    /// </summary>
    /// <exception cref="InvalidLayerException">The stream is corrupt, exceeds the size limits, or has another diff id.</exception>
    internal async Task VerifyDiffIdAsync(Digest diffId, Stream blob, LayerCompression compression, CancellationToken cancellationToken)
    {
        var actual = await LayerUnpacker.DiffIdAsync(blob, compression, _options, cancellationToken).ConfigureAwait(false);
        if (actual != diffId)
        {
            throw new InvalidLayerException(null, $"diff id mismatch: the uncompressed layer is {actual}, the image expects {diffId}");
        }
    }

    /// <summary>
    /// As <see cref="EnsureAsync"/>; <c>Applied</c> is true when this call read the blob and verified its diff id,
    /// false when the snapshot was already there and the blob was not opened. <paramref name="proven"/>, when given,
    /// is awaited after the diff id matched and before the snapshot is published: a blob still arriving while it is
    /// applied is proven by its digest there, and a failure discards the snapshot.
    /// </summary>
    internal async Task<(string Path, bool Applied)> EnsureAppliedAsync(
        Digest chainId,
        Digest diffId,
        Func<CancellationToken, Task<Stream>> openBlob,
        LayerCompression compression,
        Func<CancellationToken, Task>? proven,
        IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(openBlob);
        string target = PathOf(chainId);
        if (Directory.Exists(target))
        {
            return (target, false);
        }

        using var rootDir = OpenRoot();
        var (name, tmp) = CreateTemporary(rootDir);
        using (tmp)
        {
            bool published = false;
            try
            {
                LayerUnpackResult result;
                var blob = await openBlob(cancellationToken).ConfigureAwait(false);
                await using (blob.ConfigureAwait(false))
                {
                    result = await LayerUnpacker.ApplyAsync(
                        tmp,
                        blob,
                        compression,
                        new LayerApplyOptions(_options.Rootless, _options.Rootless ? _options.SubordinateIds : null),
                        _options,
                        progress,
                        _logger,
                        cancellationToken).ConfigureAwait(false);
                }

                if (result.DiffId != diffId)
                {
                    throw new InvalidLayerException(
                        null,
                        $"diff id mismatch: the uncompressed layer is {result.DiffId}, the image expects {diffId}");
                }

                if (result.Owners.Count > 0)
                {
                    await GiveOwnersAsync(name, result.Owners, _options.SubordinateIds!, cancellationToken).ConfigureAwait(false);
                }

                if (proven is not null)
                {
                    await proven(cancellationToken).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (Syncfs(tmp) != 0)
                {
                    throw Failed("syncfs", Marshal.GetLastPInvokeError());
                }

                published = Publish(rootDir, name, chainId);
                _logger.LogDebug(
                    "Applied layer {DiffId} as snapshot {ChainId}: {Entries} entries, {Size} bytes",
                    diffId,
                    chainId,
                    result.Entries,
                    result.UncompressedSize);
            }
            finally
            {
                if (!published)
                {
                    RemoveQuietly(name);
                }
            }
        }

        return (target, true);
    }

    private async Task GiveOwnersAsync(string temporary, IReadOnlyCollection<FileOwner> owners, SubordinateIds subordinate, CancellationToken cancellationToken)
    {
        try
        {
            await ForeignOwners.GiveAsync(Path.Combine(Root, temporary), owners, subordinate, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainersIOException e)
        {
            throw new SnapshotException($"snapshot store: {e.Message}", e);
        }

        _logger.LogDebug("Gave {Count} entries their owners under this user's subordinate ids", owners.Count);
    }

    /// <summary>Removes the snapshot of <paramref name="chainId"/>; a missing snapshot is not an error.</summary>
    /// <remarks>The snapshot first moves to a <c>tmp-*</c> name, so it disappears atomically.</remarks>
    public Task RemoveAsync(Digest chainId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var rootDir = OpenRoot();
        using var algorithmDir = DirectoryTree.OpenDirectory(Path.Combine(Root, chainId.Algorithm));
        if (algorithmDir.IsInvalid)
        {
            return Task.CompletedTask;
        }

        string name = TemporaryPrefix + "rm-" + RandomSuffix();
        using (Lock(rootDir, LockSh))
        {
            byte[] from = DirectoryTree.NulTerminated(chainId.Hex);
            byte[] to = DirectoryTree.NulTerminated(name);
            unsafe
            {
                fixed (byte* f = from)
                fixed (byte* t = to)
                {
                    if (Renameat2(algorithmDir, f, rootDir, t, RenameNoReplace) != 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        return errno == Errno.ENOENT
                            ? Task.CompletedTask
                            : throw Failed($"move snapshot {chainId} out of place", errno);
                    }
                }
            }
        }

        int removed = RemoveTree(name);
        if (removed != 0)
        {
            _logger.LogWarning(
                "Snapshot {ChainId} was unlisted but removing its files failed with {Errno}; the next store open retries",
                chainId,
                Errno.Name(removed));
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Removes the <c>tmp-*</c> directories that applies or removals of crashed processes left behind. Directories
    /// of applies still running in other processes are locked and stay.
    /// </summary>
    public void CleanupIncomplete()
    {
        using var rootDir = OpenRoot();
        using var exclusive = Lock(rootDir, LockEx);
        foreach (string path in Directory.EnumerateDirectories(Root, TemporaryPrefix + "*"))
        {
            string name = Path.GetFileName(path);
            using (var dir = DirectoryTree.OpenDirectory(path))
            {
                if (dir.IsInvalid || Flock(dir, LockEx | LockNb) != 0)
                {
                    continue;
                }
            }

            int result = RemoveTree(name);
            if (result != 0)
            {
                _logger.LogWarning("Removing the incomplete snapshot {Path} failed with {Errno}", path, Errno.Name(result));
            }
        }
    }

    private (string Name, SafeFileHandle Handle) CreateTemporary(SafeFileHandle rootDir)
    {
        // Shared lock: CleanupIncomplete (exclusive) cannot see the directory between its mkdir and its flock.
        using var shared = Lock(rootDir, LockSh);
        string name = TemporaryPrefix + RandomSuffix();
        byte[] z = DirectoryTree.NulTerminated(name);
        SafeFileHandle handle;
        unsafe
        {
            fixed (byte* p = z)
            {
                if (Mkdirat(rootDir, p, 0x1C0) != 0)
                {
                    throw Failed($"create '{name}'", Marshal.GetLastPInvokeError());
                }

                handle = Openat(rootDir, p, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
            }
        }

        if (handle.IsInvalid || Flock(handle, LockEx) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            RemoveQuietly(name);
            throw Failed($"open '{name}'", errno);
        }

        return (name, handle);
    }

    private bool Publish(SafeFileHandle rootDir, string temporary, Digest chainId)
    {
        string algorithmPath = Path.Combine(Root, chainId.Algorithm);
        Directory.CreateDirectory(algorithmPath);
        using var algorithmDir = DirectoryTree.OpenDirectory(algorithmPath);
        if (algorithmDir.IsInvalid)
        {
            throw Failed($"open '{algorithmPath}'", Marshal.GetLastPInvokeError());
        }

        byte[] from = DirectoryTree.NulTerminated(temporary);
        byte[] to = DirectoryTree.NulTerminated(chainId.Hex);
        unsafe
        {
            fixed (byte* f = from)
            fixed (byte* t = to)
            {
                if (Renameat2(rootDir, f, algorithmDir, t, RenameNoReplace) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is Errno.EEXIST or Errno.ENOTEMPTY)
                    {
                        // Another process published the same snapshot first; its copy is as good as ours.
                        return false;
                    }

                    throw Failed($"rename the snapshot {chainId} into place", errno);
                }
            }
        }

        if (Fsync(algorithmDir) != 0)
        {
            throw Failed($"fsync '{algorithmPath}'", Marshal.GetLastPInvokeError());
        }

        return true;
    }

    private SafeFileHandle OpenRoot()
    {
        var handle = DirectoryTree.OpenDirectory(Root);
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failed($"open the snapshot store '{Root}'", errno);
        }

        return handle;
    }

    private SafeFileHandle Lock(SafeFileHandle rootDir, int operation)
    {
        byte[] z = DirectoryTree.NulTerminated(LockFileName);
        SafeFileHandle handle;
        unsafe
        {
            fixed (byte* p = z)
            {
                handle = Openat(rootDir, p, ORdOnly | OCreat | ONoFollow | OCloExec, 0x1A4);
            }
        }

        if (handle.IsInvalid || Flock(handle, operation) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failed($"lock '{Path.Combine(Root, LockFileName)}'", errno);
        }

        return handle;
    }

    private void RemoveQuietly(string name)
    {
        int result = RemoveTree(name);
        if (result != 0)
        {
            _logger.LogWarning("Removing {Name} in {Root} failed with {Errno}; the next store open retries", name, Root, Errno.Name(result));
        }
    }

    /// <summary>
    /// Removes the directory <paramref name="name"/> of the root; returns 0 or an errno. Without root, a snapshot's
    /// directories may belong to other owners under subordinate ids: they are given back first (<see cref="ForeignOwners"/>).
    /// </summary>
    private int RemoveTree(string name)
    {
        try
        {
            return ForeignOwners.Remove(Path.Combine(Root, name));
        }
        catch (ContainersIOException e)
        {
            _logger.LogWarning(e, "Giving the directories of {Name} in {Root} back to this user failed", name, Root);
            return Errno.EACCES;
        }
    }

    private static string RandomSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static SnapshotException Failed(string operation, int errno) =>
        new($"snapshot store: {operation} failed with {Errno.Name(errno)}");
}
