using Containers.Images.Commit;
using Containers.Images.Model;
using Containers.Images.Store;
using Microsoft.Extensions.Logging;

namespace Containers.Images;

/// <summary>Commit: a container's overlay upper directory becomes a new layer on top of its image, and the changes are listable.</summary>
public sealed partial class ImageStore
{
    private const string DefaultCreatedBy = "containers commit";

    /// <summary>
    /// Makes a new image from <paramref name="baseImage"/> plus the changes in an overlay upper directory: new and
    /// changed files, deletions (overlay whiteouts become OCI <c>.wh.NAME</c> entries) and opaque directories
    /// (<c>.wh..wh..opq</c>), as one gzip (or zstd, <see cref="CommitOptions.Compression"/>) layer compressed on all cores. The new config carries
    /// <see cref="CommitOptions.Config"/>'s changes and a history entry; the base image is not changed. Nothing is
    /// added to the store unless the whole commit succeeds.
    /// </summary>
    /// <param name="baseImage">The image the container was made from: a name, a digest or a unique digest prefix.</param>
    /// <param name="upperDirectory">The overlay upper directory holding the container's changes. Stop or pause the container first: a file that changes while it is read fails the commit.</param>
    /// <param name="options">The name, config changes and history; null for an untagged image with the base image's config.</param>
    /// <param name="progress">Receives <see cref="ImageProgressPhase.Committing"/> progress (file bytes read); null for none.</param>
    /// <param name="cancellationToken">Cancels the commit; the store stays as it was.</param>
    /// <returns>The new image.</returns>
    /// <exception cref="ImageNotFoundException">No image matches <paramref name="baseImage"/>.</exception>
    /// <exception cref="ImageCommitException">The upper directory cannot be read or holds what a layer cannot represent.</exception>
    /// <example>
    /// <code>
    /// Image committed = await store.CommitAsync("busybox:1.36", "/var/lib/app/containers/web/upper",
    ///     new CommitOptions { Tag = "web:snapshot", Message = "after setup", Config = new ContainerConfig { Cmd = ["httpd", "-f"] } },
    ///     progress: null, ct);
    /// </code>
    /// </example>
    public async Task<Image> CommitAsync(string baseImage, string upperDirectory, CommitOptions? options = null, IProgress<ImageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(upperDirectory);
        options ??= new CommitOptions();
        var tag = options.Tag is null ? null : ParseTagName(options.Tag);
        if (!Directory.Exists(upperDirectory))
        {
            throw new ImageCommitException($"the upper directory {upperDirectory} does not exist");
        }

        using var ingest = await FileLock.AcquireAsync(_ingestLockPath, exclusive: false, cancellationToken).ConfigureAwait(false);
        var index = await LayoutIndex.ReadAsync(Root, cancellationToken).ConfigureAwait(false);
        var (image, baseName) = await FindAsync(index, baseImage, cancellationToken).ConfigureAwait(false);
        CheckLayerCount(image.Manifest.Layers.Count + 1, $"the commit on {baseImage}");
        bool docker = image.Descriptor.MediaType == MediaTypes.DockerManifest;
        if (options.Compression == LayerCompressionFormat.Zstd && docker)
        {
            throw new ImageCommitException($"cannot commit a zstd layer on {baseImage}: it is a Docker-format image, whose manifests have no zstd layer type; commit with gzip");
        }

        var staged = new List<(string Path, Digest Digest)>();
        try
        {
            string layerFile = Path.Combine(_content.IngestDirectory, $"commit-{Guid.NewGuid():N}.partial");
            staged.Add((layerFile, default));
            var started = DateTime.UtcNow;
            var layer = await Task.Factory.StartNew(
                () => WriteLayer(upperDirectory, layerFile, options, progress, cancellationToken),
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).ConfigureAwait(false);
            staged[0] = (layerFile, layer.Digest);
            _logger.LogInformation(
                "committed {Upper} as a {Size}-byte layer {Digest} ({Uncompressed} bytes uncompressed) in {Seconds:F2} s",
                upperDirectory,
                layer.Size,
                layer.Digest,
                layer.UncompressedSize,
                (DateTime.UtcNow - started).TotalSeconds);

            var config = CommittedConfig(image.Config, layer.DiffId, options);
            byte[] configBytes = ImageDocuments.Serialize(config);
            var configDescriptor = new Descriptor { MediaType = docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, Digest = Digest.Sha256(configBytes), Size = configBytes.Length };
            var annotations = new Dictionary<string, string> { ["org.opencontainers.image.base.digest"] = image.Digest.ToString() };
            if (baseName is not null)
            {
                annotations["org.opencontainers.image.base.name"] = baseName.ToString();
            }

            var manifest = new ImageManifest
            {
                MediaType = docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest,
                Config = configDescriptor,
                Layers = [.. image.Manifest.Layers, new Descriptor { MediaType = LayerMediaType(docker, options.Compression), Digest = layer.Digest, Size = layer.Size }],
                Annotations = docker ? null : annotations,
            };
            byte[] manifestBytes = ImageDocuments.Serialize(manifest);
            var manifestDescriptor = new Descriptor { MediaType = manifest.MediaType, Digest = Digest.Sha256(manifestBytes), Size = manifestBytes.Length };
            staged.Add((await _content.StageAsync(new MemoryStream(configBytes, writable: false), configDescriptor.Digest, configBytes.Length, "the committed config", null, cancellationToken).ConfigureAwait(false), configDescriptor.Digest));
            staged.Add((await _content.StageAsync(new MemoryStream(manifestBytes, writable: false), manifestDescriptor.Digest, manifestBytes.Length, "the committed manifest", null, cancellationToken).ConfigureAwait(false), manifestDescriptor.Digest));
            cancellationToken.ThrowIfCancellationRequested();
            _content.Publish(staged);
            staged.Clear();
            return await RecordAsync(manifestDescriptor, tag, config.Platform, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (path, _) in staged)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>
    /// Lists how an overlay upper directory differs from <paramref name="baseImage"/>, as <c>docker diff</c> does:
    /// <c>A</c> for a path the image does not have, <c>C</c> for one it has (a directory is changed when anything
    /// inside it is), <c>D</c> for a deletion, including every entry of an opaque directory's image content that the
    /// container did not re-create. Sorted by path.
    /// </summary>
    /// <param name="baseImage">The image the container was made from.</param>
    /// <param name="upperDirectory">The container's overlay upper directory.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The changes, sorted by path.</returns>
    /// <example>
    /// <code>
    /// foreach (var change in await store.DiffAsync("busybox:1.36", upper, ct)) Console.WriteLine(change); // "A /tmp/x"
    /// </code>
    /// </example>
    public Task<IReadOnlyList<FileChange>> DiffAsync(string baseImage, string upperDirectory, CancellationToken cancellationToken = default) =>
        DiffAsync(baseImage, upperDirectory, null, null, null, cancellationToken);

    /// <summary>
    /// The changes of <paramref name="upperDirectory"/> as <see cref="DiffAsync(string, string, CancellationToken)"/>
    /// lists them, without the paths in <paramref name="excluded"/>; without root, entries the caller cannot look up
    /// are opened in a user namespace with the given mappings (none: the caller as 0 only), as a commit opens them.
    /// </summary>
    internal async Task<IReadOnlyList<FileChange>> DiffAsync(
        string baseImage, string upperDirectory, IReadOnlySet<string>? excluded, IReadOnlyList<Spec.LinuxIdMapping>? uidMappings, IReadOnlyList<Spec.LinuxIdMapping>? gidMappings, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(upperDirectory);
        var lowers = new LowerLayers(await GetSnapshotChainAsync(baseImage, cancellationToken).ConfigureAwait(false), cancellationToken);
        return await Task.Run(
            () =>
            {
                var changes = new List<FileChange>();
                var present = new HashSet<string>(StringComparer.Ordinal);
                var opaque = new List<string>();
                var opener = Environment.IsPrivilegedProcess ? null : new UserNamespaceOpener(upperDirectory, uidMappings, gidMappings);
                new UpperDirectoryReader(null, null, opener).Walk(
                    upperDirectory,
                    entry =>
                    {
                        string path = entry.DisplayPath;
                        if (excluded?.Contains(path) == true)
                        {
                            return;
                        }

                        if (entry.Kind == UpperEntryKind.Whiteout)
                        {
                            changes.Add(new FileChange(FileChangeKind.Deleted, path));
                            return;
                        }

                        present.Add(path);
                        bool existed = lowers.Contains(entry.Path);
                        changes.Add(new FileChange(existed ? FileChangeKind.Changed : FileChangeKind.Added, path));
                        if (entry.Opaque && existed)
                        {
                            opaque.Add(path);
                        }
                    },
                    cancellationToken);
                foreach (var directory in opaque)
                {
                    changes.AddRange(lowers.ListNames(directory[1..]).Select(n => directory + "/" + n).Where(p => !present.Contains(p)).Select(p => new FileChange(FileChangeKind.Deleted, p)));
                }

                changes.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
                return (IReadOnlyList<FileChange>)changes;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static ImageReference ParseTagName(string tag)
    {
        var name = ImageReference.Parse(tag);
        if (name.Tag is null)
        {
            throw new InvalidReferenceException(tag, "a commit is named name:tag, not by a digest");
        }

        return name.WithTag(name.Tag);
    }

    private static ImageConfig CommittedConfig(ImageConfig baseConfig, Digest diffId, CommitOptions options)
    {
        var created = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var history = new List<HistoryEntry>(baseConfig.History ?? []);
        history.Add(new HistoryEntry
        {
            Created = created,
            CreatedBy = options.CreatedBy ?? DefaultCreatedBy,
            Author = options.Author,
            Comment = options.Message,
        });
        return baseConfig with
        {
            Created = created,
            Author = options.Author ?? baseConfig.Author,
            Config = MergeConfig(baseConfig.Config, options.Config),
            RootFS = baseConfig.RootFS with { DiffIds = [.. baseConfig.RootFS.DiffIds, diffId] },
            History = history,
        };
    }

    /// <summary><paramref name="image"/>'s config with <paramref name="changes"/> over it: a property set there wins, labels add up.</summary>
    internal static ContainerConfig? MergeConfig(ContainerConfig? image, ContainerConfig? changes)
    {
        if (changes is null)
        {
            return image;
        }

        image ??= new ContainerConfig();
        var labels = image.Labels is null && changes.Labels is null ? null : new Dictionary<string, string>(image.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in changes.Labels ?? new Dictionary<string, string>())
        {
            labels![key] = value;
        }

        return new ContainerConfig
        {
            User = changes.User ?? image.User,
            ExposedPorts = changes.ExposedPorts ?? image.ExposedPorts,
            Env = changes.Env ?? image.Env,
            Entrypoint = changes.Entrypoint ?? image.Entrypoint,
            Cmd = changes.Cmd ?? image.Cmd,
            Volumes = changes.Volumes ?? image.Volumes,
            WorkingDir = changes.WorkingDir ?? image.WorkingDir,
            Labels = labels,
            StopSignal = changes.StopSignal ?? image.StopSignal,
        };
    }

    private static string LayerMediaType(bool docker, LayerCompressionFormat compression) => (docker, compression) switch
    {
        (true, _) => MediaTypes.DockerLayerGzip,
        (false, LayerCompressionFormat.Zstd) => MediaTypes.OciLayerZstd,
        _ => MediaTypes.OciLayerGzip,
    };

    /// <summary>Writes the upper directory as a gzip or zstd layer into <paramref name="file"/> (fsynced) on the calling thread.</summary>
    private CommittedLayer WriteLayer(string upperDirectory, string file, CommitOptions options, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        // Without root, what the container made unreadable to the caller is opened in a user namespace with its mappings.
        var opener = Environment.IsPrivilegedProcess ? null : new UserNamespaceOpener(upperDirectory, options.UidMappings, options.GidMappings);
        var reader = new UpperDirectoryReader(options.UidMappings, options.GidMappings, opener);
        (Digest DiffId, Digest Digest) digests;
        long size;
        long uncompressed;
        using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            using (LayerCompressor compressed = options.Compression == LayerCompressionFormat.Zstd ? new ZstdLayerStream(output) : new ParallelGzipStream(output))
            {
                var tar = new LayerTarWriter(compressed, new byte[1 << 20]);
                long reported = 0;
                reader.Walk(
                    upperDirectory,
                    entry =>
                    {
                        if (options.Excluded?.Contains(entry.DisplayPath) == true)
                        {
                            return;
                        }

                        tar.Write(entry);
                        if (progress is not null && tar.ContentBytes - reported >= 1 << 20)
                        {
                            reported = tar.ContentBytes;
                            progress.Report(new ImageProgress(ImageProgressPhase.Committing, upperDirectory, reported, 0));
                        }
                    },
                    cancellationToken);
                tar.Finish();
                digests = compressed.Complete();
                size = compressed.CompressedLength;
                uncompressed = compressed.UncompressedLength;
                progress?.Report(new ImageProgress(ImageProgressPhase.Committing, upperDirectory, tar.ContentBytes, tar.ContentBytes));
            }

            output.Flush(flushToDisk: true);
        }

        if (opener is { Launches: > 0 })
        {
            _logger.LogInformation("entries of {Upper} this user cannot read were opened in {Count} user namespace(s) with the container's mappings", upperDirectory, opener.Launches);
        }

        if (reader.SkippedSockets > 0)
        {
            _logger.LogWarning("{Count} socket(s) in {Upper} were left out of the commit: a layer cannot hold sockets", reader.SkippedSockets, upperDirectory);
        }

        if (reader.UnmappedOwners > 0)
        {
            _logger.LogWarning("{Count} entries of {Upper} are owned by host ids outside the container's mappings; they are recorded as 65534", reader.UnmappedOwners, upperDirectory);
        }

        return new CommittedLayer(digests.DiffId, digests.Digest, size, uncompressed);
    }

    private readonly record struct CommittedLayer(Digest DiffId, Digest Digest, long Size, long UncompressedSize);
}
