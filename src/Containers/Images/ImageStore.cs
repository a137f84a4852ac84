using System.Collections.Concurrent;
using Containers.Images.Archives;
using Containers.Images.Model;
using Containers.Images.Snapshots;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Images;

/// <summary>
/// The local image store: an OCI image layout on disk (so <c>skopeo</c> and <c>umoci</c> read it directly) with
/// tags as <c>org.opencontainers.image.ref.name</c> entries of its <c>index.json</c>, plus <c>ingest/</c> for content
/// on its way in and <c>snapshots/</c> for applied layers. Several processes may share one store: <c>index.json</c>
/// changes and garbage collection hold an exclusive <c>flock</c> on <c>&lt;root&gt;/lock</c>, imports hold a shared
/// lock on <c>&lt;root&gt;/ingest.lock</c> that garbage collection takes exclusively, and writers of one blob wait for
/// each other on a lock file per digest. Every operation can be cancelled and leaves the store consistent.
/// </summary>
/// <example>
/// <code>
/// await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = "/tmp/images" }, ct);
/// var images = await store.ImportAsync("busybox.tar", "busybox:1.36", progress: null, ct);
/// IReadOnlyList&lt;string&gt; lowerDirs = await store.GetSnapshotChainAsync("busybox:1.36", ct);
/// await store.ExportAsync("busybox:1.36", "out.tar", ImageArchiveFormat.DockerArchive, ct);
/// </code>
/// </example>
public sealed partial class ImageStore : IAsyncDisposable
{
    private const int MinimumPrefixLength = 4;

    private readonly ContentStore _content;
    private readonly SnapshotStore _snapshots;
    private readonly ILogger _logger;
    private readonly ImageStoreOptions _options;
    private readonly string _indexLockPath;
    private readonly string _ingestLockPath;

    /// <summary>
    /// The manifests and configs read and verified before, by the index entry that named them. Both are content
    /// addressed, so a digest's documents never change: every lookup still reads the index (which says what names
    /// what) and checks that both blobs are there, but an image run again is not read, hashed and parsed again.
    /// </summary>
    private readonly ConcurrentDictionary<(Digest Digest, long Size, string MediaType), (ImageManifest Manifest, ImageConfig Config)> _documents = new();

    /// <summary>Images whose documents <see cref="_documents"/> keeps at most (a store with more starts over).</summary>
    private const int MaxCachedDocuments = 256;

    private ImageStore(string root, bool rootless, ImageStoreOptions options)
    {
        Root = root;
        Rootless = rootless;
        _options = options;
        _content = new ContentStore(root);
        _logger = options.LoggerFactory?.CreateLogger<ImageStore>() ?? NullLogger<ImageStore>.Instance;
        _snapshots = new SnapshotStore(Path.Combine(root, "snapshots"), new SnapshotStoreOptions { Rootless = rootless }, options.LoggerFactory?.CreateLogger<SnapshotStore>());
        _indexLockPath = Path.Combine(root, "lock");
        _ingestLockPath = Path.Combine(root, "ingest.lock");
    }

    /// <summary>The store's root directory.</summary>
    public string Root { get; }

    /// <summary>True when the store is owned by an unprivileged user.</summary>
    public bool Rootless { get; }

    /// <summary>
    /// Opens the store at <see cref="ImageStoreOptions.Root"/> (or the default root), creating it if needed, and removes
    /// what an interrupted import left in <c>ingest/</c> when no other process is importing.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var store = await ImageStore.OpenAsync(new ImageStoreOptions(), ct);
    /// </code>
    /// </example>
    public static async Task<ImageStore> OpenAsync(ImageStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ImageStoreOptions();
        string root = Path.GetFullPath(options.Root ?? ImageStoreOptions.DefaultRoot);
        bool rootless = options.Rootless ?? !Environment.IsPrivilegedProcess;
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the image store needs Linux");
        }

        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | (rootless ? 0 : UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(root, mode);
        Directory.CreateDirectory(Path.Combine(root, "ingest"), mode);
        Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256"), mode);
        var store = new ImageStore(root, rootless, options);
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>
    /// Imports every image of an OCI layout directory, an oci-archive or a docker-archive (plain or gzip-compressed
    /// tar). Each image is tagged with <paramref name="tag"/> when given, otherwise with the names the source gives it.
    /// Every blob is checked against its digest before anything becomes visible.
    /// </summary>
    /// <param name="path">The directory or archive file.</param>
    /// <param name="tag">The name to give the image (<c>name[:tag]</c>), or null to keep the source's names.</param>
    /// <param name="progress">Receives progress; null for none.</param>
    /// <param name="cancellationToken">Cancels the import; the store stays as it was before it.</param>
    /// <returns>The imported images.</returns>
    /// <exception cref="InvalidImageException">The source is malformed or a digest does not match.</exception>
    /// <example>
    /// <code>
    /// var images = await store.ImportAsync("/tmp/busybox-oci", "busybox:latest", progress: null, ct);
    /// Console.WriteLine(images[0].Digest);
    /// </code>
    /// </example>
    public Task<IReadOnlyList<Image>> ImportAsync(string path, string? tag, IProgress<ImageProgress>? progress, CancellationToken cancellationToken) =>
        ImportAsync(path, new ImportOptions { Tag = tag is null ? null : ImageReference.Parse(tag) }, progress, cancellationToken);

    /// <summary>Imports images as <see cref="ImportAsync(string, string?, IProgress{ImageProgress}?, CancellationToken)"/> does, with a platform choice.</summary>
    /// <param name="path">The directory or archive file.</param>
    /// <param name="options">The tag and the platform to select from an index.</param>
    /// <param name="progress">Receives progress; null for none.</param>
    /// <param name="cancellationToken">Cancels the import; the store stays as it was before it.</param>
    /// <returns>The imported images.</returns>
    public async Task<IReadOnlyList<Image>> ImportAsync(string path, ImportOptions options, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        using var source = await ImageSource.OpenAsync(Path.GetFullPath(path), _content.IngestDirectory, progress, cancellationToken).ConfigureAwait(false);
        var plans = await ImportPlanner.PlanAsync(source, options, _options.MaxLayers, progress, cancellationToken).ConfigureAwait(false);
        _logger.LogDebug("importing {Count} image(s) from {Path} ({Format})", plans.Count, path, source.Format);
        await StoreBlobsAsync(plans, source, progress, cancellationToken).ConfigureAwait(false);
        await UpdateIndexAsync(
            index =>
            {
                var entries = index.Manifests.ToList();
                foreach (var plan in plans)
                {
                    var platform = plan.Config.Platform;
                    if (plan.Names.Count == 0 && !entries.Any(e => e.Digest == plan.ManifestDescriptor.Digest))
                    {
                        entries.Add(LayoutIndex.Entry(plan.ManifestDescriptor, null, platform));
                    }

                    foreach (var name in plan.Names)
                    {
                        entries.RemoveAll(e => LayoutIndex.NameOf(e) == name);
                        entries.Add(LayoutIndex.Entry(plan.ManifestDescriptor, name, platform));
                    }
                }

                return entries;
            },
            cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var result = new List<Image>();
        foreach (var plan in plans)
        {
            result.Add(await LoadAsync(index, plan.ManifestDescriptor, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <summary>Writes an image as an OCI layout directory, an oci-archive or a docker-archive.</summary>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="path">The output directory or file; it must not exist (an empty directory is fine for a layout).</param>
    /// <param name="format">The output format.</param>
    /// <param name="cancellationToken">Cancels the export; nothing is left at <paramref name="path"/>.</param>
    /// <example>
    /// <code>
    /// await store.ExportAsync("busybox", "/tmp/busybox.tar", ImageArchiveFormat.OciArchive, ct);
    /// </code>
    /// </example>
    public Task ExportAsync(string reference, string path, ImageArchiveFormat format, CancellationToken cancellationToken) =>
        ExportAsync(reference, path, format, progress: null, cancellationToken);

    /// <summary>Writes an image as <see cref="ExportAsync(string, string, ImageArchiveFormat, CancellationToken)"/> does, reporting progress.</summary>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="path">The output directory or file; it must not exist (an empty directory is fine for a layout).</param>
    /// <param name="format">The output format.</param>
    /// <param name="progress">Receives progress; null for none.</param>
    /// <param name="cancellationToken">Cancels the export; nothing is left at <paramref name="path"/>.</param>
    public async Task ExportAsync(string reference, string path, ImageArchiveFormat format, IProgress<ImageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var (image, name) = await FindAsync(index, reference, cancellationToken).ConfigureAwait(false);
        await ImageExporter.ExportAsync(_content, image, name ?? image.References.FirstOrDefault(), path, format, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the store's images, one per manifest, each with all its names.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <example>
    /// <code>
    /// foreach (var image in await store.ListAsync(ct)) Console.WriteLine($"{image.Digest} {image.Size}");
    /// </code>
    /// </example>
    public async Task<IReadOnlyList<Image>> ListAsync(CancellationToken cancellationToken = default)
    {
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var result = new List<Image>();
        foreach (var entry in index.Manifests.Where(e => MediaTypes.IsManifest(e.MediaType)).DistinctBy(e => e.Digest))
        {
            if (await TryLoadAsync(index, entry, cancellationToken).ConfigureAwait(false) is { } image)
            {
                result.Add(image);
            }
        }

        foreach (var entry in index.Unreadable)
        {
            _logger.LogWarning("skipping an index entry this store cannot read ({Reason}); 'prune' removes it", entry.Reason);
        }

        return result;
    }

    /// <summary>
    /// Finds an image by name (<c>busybox</c>, <c>localhost:5000/app:1</c>, <c>name@sha256:…</c>), by manifest digest
    /// (<c>sha256:…</c>) or by a unique prefix of at least four hex digits of the digest.
    /// </summary>
    /// <param name="reference">The name, digest or digest prefix.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <exception cref="ImageNotFoundException">No image matches.</exception>
    /// <example>
    /// <code>
    /// Image image = await store.ResolveAsync("busybox", ct);
    /// Console.WriteLine(string.Join(' ', image.Config.Config?.Cmd ?? []));
    /// </code>
    /// </example>
    public async Task<Image> ResolveAsync(string reference, CancellationToken cancellationToken = default)
    {
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        return (await FindAsync(index, reference, cancellationToken).ConfigureAwait(false)).Image;
    }

    /// <summary>Gives an image another name; an image that had that name before loses it.</summary>
    /// <param name="reference">The image: a name, a digest or a unique digest prefix.</param>
    /// <param name="newName">The new name, <c>name[:tag]</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The normalised new name.</returns>
    /// <example>
    /// <code>
    /// await store.TagAsync("busybox", "localhost:5000/tools/busybox:stable", ct);
    /// </code>
    /// </example>
    public async Task<ImageReference> TagAsync(string reference, string newName, CancellationToken cancellationToken = default)
    {
        var name = ImageReference.Parse(newName);
        if (name.Tag is null)
        {
            throw new InvalidReferenceException(newName, "a tag name cannot be a digest reference; give name:tag");
        }

        name = name.WithTag(name.Tag);
        Image? image = null;
        await UpdateIndexAsync(
            async (index, ct) =>
            {
                image = (await FindAsync(index, reference, ct).ConfigureAwait(false)).Image;
                var entries = index.Manifests.Where(e => LayoutIndex.NameOf(e) != name).ToList();
                entries.Add(LayoutIndex.Entry(image.Descriptor, name, image.Config.Platform));
                return entries;
            },
            cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// Removes a name, or (for a digest or digest prefix) an image with all its names, then deletes the blobs and
    /// snapshots that nothing reaches any more.
    /// </summary>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="cancellationToken">Cancels the operation before the index changes.</param>
    /// <returns>What was removed.</returns>
    /// <exception cref="ImageNotFoundException">No image matches.</exception>
    /// <example>
    /// <code>
    /// await store.RemoveAsync("busybox:latest", ct);
    /// </code>
    /// </example>
    /// <exception cref="ImageInUseException">The image would leave the store while a container uses it.</exception>
    public Task<PruneResult> RemoveAsync(string reference, CancellationToken cancellationToken) =>
        RemoveAsync(reference, force: false, cancellationToken);

    /// <summary>
    /// Removes a name, or (for a digest or digest prefix) an image with all its names, as
    /// <see cref="RemoveAsync(string, CancellationToken)"/> does. An image a container uses (one created with
    /// <c>Runtime.OverlayRootfs.FromImageAsync</c> and not yet deleted) cannot leave the store: without
    /// <paramref name="force"/> that is refused; with it the names go and the image stays, untagged, until no
    /// container uses it. Removing one of several names of a used image is fine either way.
    /// </summary>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="force">Untag an image in use instead of refusing.</param>
    /// <param name="cancellationToken">Cancels the operation before the index changes.</param>
    /// <returns>What was removed.</returns>
    /// <exception cref="ImageNotFoundException">No image matches.</exception>
    /// <exception cref="ImageInUseException">The image would leave the store while a container uses it, and <paramref name="force"/> is false.</exception>
    /// <example>
    /// <code>
    /// await store.RemoveAsync("busybox:latest", force: true, ct);
    /// </code>
    /// </example>
    public async Task<PruneResult> RemoveAsync(string reference, bool force, CancellationToken cancellationToken = default)
    {
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: true, cancellationToken).ConfigureAwait(false);
        using var indexLock = await FileLock.AcquireAsync(_indexLockPath, exclusive: true, cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var (image, name) = await FindAsync(index, reference, cancellationToken).ConfigureAwait(false);
        var kept = name is not null
            ? index.Manifests.Where(e => LayoutIndex.NameOf(e) != name).ToList()
            : index.Manifests.Where(e => e.Digest != image.Digest).ToList();
        bool gone = !kept.Any(e => e.Digest == image.Digest);
        if (gone && LiveLeases().Where(l => l.Image == image.Digest).Select(l => l.Holder).ToList() is { Count: > 0 } holders)
        {
            if (!force)
            {
                throw new ImageInUseException(reference, image.Digest, holders);
            }

            // Untagged, not removed: the image stays listed (without a name) until its last container is deleted.
            kept.Add(LayoutIndex.Entry(image.Descriptor, null, image.Config.Platform));
            gone = false;
        }
        await LayoutIndex.WriteAsync(Root, index.WithManifests(kept), CancellationToken.None).ConfigureAwait(false);
        var swept = await SweepAsync(kept, cancellationToken).ConfigureAwait(false);
        return swept with { RemovedImages = gone ? [image.Digest] : [] };
    }

    /// <summary>
    /// Removes untagged images, then every blob and snapshot that no tagged image (and no image in
    /// <see cref="ImageStoreOptions.InUseImages"/>) reaches.
    /// </summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What was removed.</returns>
    /// <example>
    /// <code>
    /// var result = await store.PruneAsync(ct);
    /// Console.WriteLine($"{result.ReclaimedBytes} bytes freed");
    /// </code>
    /// </example>
    public async Task<PruneResult> PruneAsync(CancellationToken cancellationToken = default)
    {
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: true, cancellationToken).ConfigureAwait(false);
        using var indexLock = await FileLock.AcquireAsync(_indexLockPath, exclusive: true, cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var kept = new List<Descriptor>();
        foreach (var entry in index.Manifests.Where(e => LayoutIndex.NameOf(e) is not null))
        {
            if (await TryLoadAsync(index, entry, cancellationToken).ConfigureAwait(false) is not null || !MediaTypes.IsManifest(entry.MediaType))
            {
                kept.Add(entry);
            }
        }

        var removed = index.Manifests.Select(e => e.Digest).Except(kept.Select(e => e.Digest)).ToList();
        foreach (var entry in index.Unreadable)
        {
            _logger.LogWarning("prune removes the unreadable index entry {Entry}: {Reason}", entry.Json, entry.Reason);
        }

        if (removed.Count > 0 || index.Unreadable.Count > 0 || kept.Count != index.Manifests.Count)
        {
            await LayoutIndex.WriteAsync(Root, new StoreIndex(index.Index with { Manifests = kept }, []), CancellationToken.None).ConfigureAwait(false);
        }

        var swept = await SweepAsync(kept, cancellationToken).ConfigureAwait(false);
        return swept with { RemovedImages = removed, RemovedDamagedEntries = index.Unreadable.Count + index.Manifests.Count(e => LayoutIndex.NameOf(e) is not null && !kept.Contains(e)) };
    }

    /// <summary>
    /// The snapshot directories of an image, top layer first: the <c>lowerdir</c> list of an overlay mount. A snapshot
    /// that is missing (removed, or never applied) is applied from its blob first.
    /// </summary>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="cancellationToken">Cancels the operation; a partial snapshot never becomes visible.</param>
    /// <returns>Absolute directory paths, top layer first; empty for an image without layers.</returns>
    /// <example>
    /// <code>
    /// var lowerDirs = await store.GetSnapshotChainAsync("busybox", ct);
    /// string mountData = "lowerdir=" + string.Join(':', lowerDirs);
    /// </code>
    /// </example>
    public async Task<IReadOnlyList<string>> GetSnapshotChainAsync(string reference, CancellationToken cancellationToken = default)
    {
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        var image = await ResolveAsync(reference, cancellationToken).ConfigureAwait(false);
        return await ApplyChainAsync(image, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="GetSnapshotChainAsync(string, CancellationToken)"/> for an image this store resolved just now.</summary>
    internal async Task<IReadOnlyList<string>> GetSnapshotChainAsync(Image image, CancellationToken cancellationToken)
    {
        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        return await ApplyChainAsync(image, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<string>> ApplyChainAsync(Image image, CancellationToken cancellationToken)
    {
        var (chain, _) = await ApplyLayersAsync(image.Manifest, image.Config, _content.BlobPath, progress: null, cancellationToken).ConfigureAwait(false);
        return chain.AsEnumerable().Reverse().ToList();
    }

    /// <summary>The chain ids of an image's layers, base first.</summary>
    internal static IReadOnlyList<Digest> ChainIds(ImageConfig config)
    {
        var chain = new List<Digest>(config.RootFS.DiffIds.Count);
        Digest? parent = null;
        foreach (var diffId in config.RootFS.DiffIds)
        {
            parent = SnapshotStore.ChainId(parent, diffId);
            chain.Add(parent.Value);
        }

        return chain;
    }

    /// <summary>
    /// Ends the use of the store. Every operation opens and closes its own files and locks, so nothing is held
    /// between calls and disposing never waits.
    /// </summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        using (await FileLock.AcquireAsync(_indexLockPath, exclusive: true, cancellationToken).ConfigureAwait(false))
        {
            foreach (var temporary in Directory.EnumerateFiles(Root, ".*.tmp"))
            {
                File.Delete(temporary);
            }

            await LayoutIndex.InitializeAsync(Root, cancellationToken).ConfigureAwait(false);
        }

        using var ingest = FileLock.TryAcquire(_ingestLockPath, exclusive: true);
        if (ingest is not null)
        {
            CleanIngest();
        }

        _snapshots.CleanupIncomplete();
    }

    /// <summary>Deletes what interrupted imports and exports left in <c>ingest/</c>; only called while no other process ingests.</summary>
    private void CleanIngest()
    {
        foreach (var entry in new DirectoryInfo(_content.IngestDirectory).EnumerateFileSystemInfos())
        {
            _logger.LogInformation("removing leftover {Entry} of an interrupted import", entry.FullName);
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }
    }

    private async Task StoreBlobsAsync(IReadOnlyList<PlannedImage> plans, ImageSource source, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        var blobs = new Dictionary<Digest, (byte[]? Bytes, string? File, long Size, bool Verified)>();
        foreach (var plan in plans)
        {
            blobs.TryAdd(plan.ManifestDescriptor.Digest, (plan.ManifestBytes, null, plan.ManifestBytes.Length, true));
            blobs.TryAdd(plan.Manifest.Config.Digest, (plan.ConfigBytes, null, plan.ConfigBytes.Length, true));
            for (int i = 0; i < plan.Manifest.Layers.Count; i++)
            {
                blobs.TryAdd(plan.Manifest.Layers[i].Digest, (null, plan.LayerFiles[i], plan.Manifest.Layers[i].Size, plan.LayerVerified[i]));
            }
        }

        var missing = blobs.Keys.Where(d => !_content.Exists(d)).OrderBy(d => d.ToString(), StringComparer.Ordinal).ToList();
        var locks = new List<FileLock>();
        var staged = new List<(string Path, Digest Digest)>();
        try
        {
            foreach (var digest in missing)
            {
                locks.Add(await FileLock.AcquireAsync(_content.KeyLockPath(digest), exclusive: true, cancellationToken).ConfigureAwait(false));
            }

            foreach (var digest in missing.Where(d => !_content.Exists(d)))
            {
                var (bytes, file, size, verified) = blobs[digest];
                string what = $"blob {digest}";
                var blobProgress = progress is null ? null : new SynchronousProgress<long>(done => progress.Report(new ImageProgress(ImageProgressPhase.Verifying, digest.ToString(), done, size)));
                if (bytes is not null)
                {
                    staged.Add((await _content.StageAsync(new MemoryStream(bytes, writable: false), digest, size, what, null, cancellationToken).ConfigureAwait(false), digest));
                }
                else if (source.IsStaged)
                {
                    if (!verified)
                    {
                        await ContentStore.VerifyFileAsync(file!, digest, size, what, blobProgress, cancellationToken).ConfigureAwait(false);
                    }

                    staged.Add((file!, digest));
                }
                else
                {
                    var input = ContentStore.OpenUntrusted(file!, what, bufferSize: 1);
                    await using (input.ConfigureAwait(false))
                    {
                        staged.Add((await _content.StageAsync(input, digest, size, what, blobProgress, cancellationToken).ConfigureAwait(false), digest));
                    }
                }
            }

            var files = staged.ToDictionary(s => s.Digest, s => s.Path);
            var proven = new HashSet<(Digest Blob, Digest DiffId)>();
            foreach (var plan in plans)
            {
                proven.UnionWith((await ApplyLayersAsync(plan.Manifest, plan.Config, d => files.TryGetValue(d, out var path) ? path : _content.BlobPath(d), progress, cancellationToken).ConfigureAwait(false)).Verified);
            }

            // A new layer blob that no apply read (its snapshot existed, or a copy higher up was applied instead) is
            // still proven against its diff id before it is stored: a stored blob is what export and push publish.
            foreach (var plan in plans)
            {
                for (int i = 0; i < plan.Manifest.Layers.Count; i++)
                {
                    var layer = plan.Manifest.Layers[i];
                    var diffId = plan.Config.RootFS.DiffIds[i];
                    if (files.TryGetValue(layer.Digest, out var file) && proven.Add((layer.Digest, diffId)))
                    {
                        var blob = ContentStore.OpenUntrusted(file, $"layer {layer.Digest}", bufferSize: 1 << 16);
                        await using (blob.ConfigureAwait(false))
                        {
                            await _snapshots.VerifyDiffIdAsync(diffId, blob, MediaTypes.LayerCompressionOf(layer.MediaType)!.Value, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            _content.Publish(staged);
            staged.Clear();
        }
        finally
        {
            foreach (var (path, _) in staged.Where(s => !source.IsStaged || !s.Path.StartsWith(_content.IngestDirectory + "/import-", StringComparison.Ordinal)))
            {
                File.Delete(path);
            }

            foreach (var held in locks)
            {
                held.Dispose();
            }
        }
    }

    /// <summary>
    /// Ensures the snapshots an overlay mount of the image needs and returns their directories, base first. A layer
    /// that appears again higher up the stack is skipped: its upper copy hides everything the lower one holds (a path
    /// the layer names is taken from the upper copy; a path it does not name is not in the lower copy either), so one
    /// layer is applied once per image, however often the image lists it.
    /// </summary>
    /// <returns>The directories, and the (blob, diff id) pairs this call decompressed and verified.</returns>
    private async Task<(List<string> Directories, HashSet<(Digest Blob, Digest DiffId)> Verified)> ApplyLayersAsync(ImageManifest manifest, ImageConfig config, Func<Digest, string> blobFile, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        CheckLayerCount(manifest.Layers.Count, $"image with config {manifest.Config.Digest}");
        var chainIds = ChainIds(config);
        var directories = new List<string>(chainIds.Count);
        var verified = new HashSet<(Digest, Digest)>();
        var diffIds = config.RootFS.DiffIds;
        for (int i = 0; i < chainIds.Count; i++)
        {
            if (diffIds.Skip(i + 1).Contains(diffIds[i]))
            {
                continue;
            }

            var layer = manifest.Layers[i];
            string file = blobFile(layer.Digest);
            var compression = MediaTypes.LayerCompressionOf(layer.MediaType) ?? throw new InvalidImageException($"layer {layer.Digest} has the unsupported media type '{layer.MediaType}'");
            var layerProgress = progress is null ? null : new SynchronousProgress<long>(done => progress.Report(new ImageProgress(ImageProgressPhase.Applying, layer.Digest.ToString(), done, layer.Size)));
            var (directory, applied) = await _snapshots.EnsureAppliedAsync(
                chainIds[i],
                diffIds[i],
                _ => Task.FromResult<Stream>(ContentStore.OpenUntrusted(file, $"layer {layer.Digest}", bufferSize: 1 << 16)),
                compression,
                proven: null,
                layerProgress,
                cancellationToken).ConfigureAwait(false);
            directories.Add(directory);
            if (applied)
            {
                verified.Add((layer.Digest, diffIds[i]));
            }
        }

        return (directories, verified);
    }

    /// <summary>Refuses an image with more layers than <see cref="ImageStoreOptions.MaxLayers"/>.</summary>
    private void CheckLayerCount(int layers, string what)
    {
        if (layers > _options.MaxLayers)
        {
            throw new InvalidImageException($"{what} has {layers} layers, more than the {_options.MaxLayers} this store accepts (ImageStoreOptions.MaxLayers)");
        }
    }

    private Task UpdateIndexAsync(Func<StoreIndex, List<Descriptor>> change, CancellationToken cancellationToken) =>
        UpdateIndexAsync((index, _) => Task.FromResult(change(index)), cancellationToken);

    private async Task UpdateIndexAsync(Func<StoreIndex, CancellationToken, Task<List<Descriptor>>> change, CancellationToken cancellationToken)
    {
        using var indexLock = await FileLock.AcquireAsync(_indexLockPath, exclusive: true, cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var entries = await change(index, cancellationToken).ConfigureAwait(false);
        await LayoutIndex.WriteAsync(Root, index.WithManifests(entries), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<(Image Image, ImageReference? Name)> FindAsync(StoreIndex index, string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        Descriptor? entry = null;
        ImageReference? matchedName = null;
        if (Digest.TryParse(reference, out var digest))
        {
            entry = index.Manifests.FirstOrDefault(e => e.Digest == digest);
        }
        else if (ImageReference.TryParse(reference, out var name))
        {
            if (name.Tag is not null)
            {
                var tagged = name.WithTag(name.Tag);
                entry = index.Manifests.FirstOrDefault(e => LayoutIndex.NameOf(e) == tagged && (name.Digest is null || e.Digest == name.Digest));
                matchedName = entry is null ? null : tagged;
            }
            else
            {
                entry = index.Manifests.FirstOrDefault(e => e.Digest == name.Digest && LayoutIndex.NameOf(e)?.Name == name.Name);
            }
        }

        if (entry is null)
        {
            string prefix = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference[7..] : reference;
            if (prefix.Length >= MinimumPrefixLength && prefix.AsSpan().ContainsOnlyLowercaseHex())
            {
                var matches = index.Manifests.Where(e => e.Digest.Hex.StartsWith(prefix, StringComparison.Ordinal)).DistinctBy(e => e.Digest).ToList();
                if (matches.Count > 1)
                {
                    throw new InvalidReferenceException(reference, $"the prefix matches {matches.Count} images; give more digits");
                }

                entry = matches.FirstOrDefault();
            }
        }

        if (entry is null || !MediaTypes.IsManifest(entry.MediaType))
        {
            throw new ImageNotFoundException(reference);
        }

        return (await LoadAsync(index, entry, cancellationToken).ConfigureAwait(false), matchedName);
    }

    private async Task<Image> LoadAsync(StoreIndex index, Descriptor entry, CancellationToken cancellationToken)
    {
        var key = (entry.Digest, entry.Size, entry.MediaType);
        // A blob removed since (a damaged store, or another process's prune) is read again, and fails as it would.
        if (!_documents.TryGetValue(key, out var documents) || !_content.Exists(entry.Digest) || !_content.Exists(documents.Manifest.Config.Digest))
        {
            string what = $"manifest {entry.Digest}";
            var read = ImageDocuments.ReadManifest(await _content.ReadDocumentAsync(entry.Digest, entry.Size, what, cancellationToken).ConfigureAwait(false), entry.MediaType, what);
            what = $"config {read.Config.Digest}";
            documents = (read, ImageDocuments.ReadConfig(await _content.ReadDocumentAsync(read.Config.Digest, read.Config.Size, what, cancellationToken).ConfigureAwait(false), read, what));
            if (_documents.Count >= MaxCachedDocuments)
            {
                _documents.Clear();
            }

            _documents[key] = documents;
        }

        var (manifest, config) = documents;
        var names = index.Manifests.Where(e => e.Digest == entry.Digest).Select(LayoutIndex.NameOf).OfType<ImageReference>().ToList();
        return new Image
        {
            Descriptor = new Descriptor { MediaType = entry.MediaType, Digest = entry.Digest, Size = entry.Size },
            Manifest = manifest,
            Config = config,
            References = names,
        };
    }

    /// <summary>Loads an index entry's image, or logs why it cannot and returns null (a damaged entry hides no other).</summary>
    private async Task<Image?> TryLoadAsync(StoreIndex index, Descriptor entry, CancellationToken cancellationToken)
    {
        try
        {
            return await LoadAsync(index, entry, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidImageException e)
        {
            _logger.LogWarning("skipping the damaged image {Digest}: {Reason}; 'prune' removes its names", entry.Digest, e.Message);
            return null;
        }
    }

    /// <summary>Deletes every blob that neither <paramref name="entries"/> nor the in-use images reach.</summary>
    private async Task<PruneResult> SweepAsync(IReadOnlyList<Descriptor> entries, CancellationToken cancellationToken)
    {
        var roots = entries.Select(e => (e.Digest, (string?)e.MediaType)).ToList();
        roots.AddRange(LiveLeases().Select(l => (l.Image, (string?)null)));
        if (_options.InUseImages is { } inUse)
        {
            roots.AddRange((await inUse(cancellationToken).ConfigureAwait(false)).Select(d => (d, (string?)null)));
        }

        var marked = new HashSet<Digest>();
        var chains = new HashSet<Digest>();
        foreach (var (digest, mediaType) in roots)
        {
            await MarkAsync(digest, mediaType, marked, chains, depth: 0, cancellationToken).ConfigureAwait(false);
        }

        int snapshots = 0;
        foreach (var snapshot in _snapshots.List().Where(s => !chains.Contains(s)).ToList())
        {
            await _snapshots.RemoveAsync(snapshot, cancellationToken).ConfigureAwait(false);
            snapshots++;
        }

        int blobs = 0;
        long bytes = 0;
        foreach (var blob in _content.ListBlobs().Where(b => !marked.Contains(b)).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            bytes += _content.Delete(blob);
            blobs++;
        }

        _logger.LogInformation("garbage collection removed {Blobs} blobs ({Bytes} bytes) and {Snapshots} snapshots", blobs, bytes, snapshots);
        return new PruneResult([], blobs, snapshots, bytes);
    }

    private async Task MarkAsync(Digest digest, string? mediaType, HashSet<Digest> marked, HashSet<Digest> chains, int depth, CancellationToken cancellationToken)
    {
        if (depth > 4 || !marked.Add(digest) || !_content.Exists(digest))
        {
            return;
        }

        try
        {
            await MarkDocumentAsync(digest, mediaType, marked, chains, depth, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidImageException e)
        {
            // A damaged document keeps what it names unmarked, never the rest of the store.
            _logger.LogWarning("garbage collection cannot read {Digest}: {Reason}", digest, e.Message);
        }
    }

    private async Task MarkDocumentAsync(Digest digest, string? mediaType, HashSet<Digest> marked, HashSet<Digest> chains, int depth, CancellationToken cancellationToken)
    {
        string what = $"blob {digest}";
        byte[] content = await _content.ReadDocumentAsync(digest, null, what, cancellationToken).ConfigureAwait(false);
        string kind = mediaType ?? ImageDocuments.DetectKind(content, what);
        if (MediaTypes.IsIndex(kind))
        {
            foreach (var child in ImageDocuments.ReadIndex(content, kind, what).Manifests)
            {
                await MarkAsync(child.Digest, child.MediaType, marked, chains, depth + 1, cancellationToken).ConfigureAwait(false);
            }
        }
        else if (MediaTypes.IsManifest(kind))
        {
            var manifest = ImageDocuments.ReadManifest(content, kind, what);
            marked.Add(manifest.Config.Digest);
            marked.UnionWith(manifest.Layers.Select(l => l.Digest));
            if (_content.Exists(manifest.Config.Digest))
            {
                string configWhat = $"config {manifest.Config.Digest}";
                var config = ImageDocuments.ReadConfig(await _content.ReadDocumentAsync(manifest.Config.Digest, manifest.Config.Size, configWhat, cancellationToken).ConfigureAwait(false), manifest, configWhat);
                chains.UnionWith(ChainIds(config));
            }
        }
    }
}
