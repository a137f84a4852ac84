using Containers.Images.Model;
using Containers.Images.Snapshots;
using Containers.Images.Store;

namespace Containers.Images.Archives;

/// <summary>
/// Reads an import source into <see cref="PlannedImage"/>s: every document bounded and verified against its digest,
/// one manifest per image (the requested platform's when the source has an index), names from the source's
/// annotations or <c>RepoTags</c>.
/// </summary>
internal static class ImportPlanner
{
    private const int MaxIndexDepth = 4;

    public static async Task<IReadOnlyList<PlannedImage>> PlanAsync(ImageSource source, ImportOptions options, int maxLayers, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        var images = source.Format == ImageArchiveFormat.DockerArchive
            ? await PlanDockerArchiveAsync(source, maxLayers, progress, cancellationToken).ConfigureAwait(false)
            : await PlanLayoutAsync(source, options.Platform, maxLayers, cancellationToken).ConfigureAwait(false);
        if (images.Count == 0)
        {
            throw new InvalidImageException("the source contains no image");
        }

        if (options.Tag is { } tag)
        {
            if (images.Select(i => i.ManifestDescriptor.Digest).Distinct().Count() > 1)
            {
                throw new InvalidImageException($"the source contains {images.Count} images; a tag can name only one (import without a tag, then tag by digest)");
            }

            images = [images[0] with { Names = [tag] }];
        }

        return images;
    }

    private static async Task<List<PlannedImage>> PlanLayoutAsync(ImageSource source, Platform? platform, int maxLayers, CancellationToken cancellationToken)
    {
        string indexFile = source.GetFile(LayoutIndex.FileName, "OCI layout");
        var index = ImageDocuments.ReadIndex(await ContentStore.ReadBoundedAsync(indexFile, "index.json", cancellationToken).ConfigureAwait(false), null, "index.json");
        var byDigest = new Dictionary<Digest, PlannedImage>();
        foreach (var entry in index.Manifests)
        {
            var name = NameOf(entry);
            var (descriptor, bytes, manifest) = await ResolveManifestAsync(source, entry, platform, 0, cancellationToken).ConfigureAwait(false);
            if (byDigest.TryGetValue(descriptor.Digest, out var known))
            {
                byDigest[descriptor.Digest] = known with { Names = name is null ? known.Names : [.. known.Names, name] };
                continue;
            }

            CheckLayerCount(manifest.Layers.Count, maxLayers, $"manifest {descriptor.Digest}");
            string what = $"config {manifest.Config.Digest}";
            byte[] configBytes = await ContentStore.ReadVerifiedDocumentAsync(BlobFile(source, manifest.Config.Digest, what), manifest.Config.Digest, manifest.Config.Size, what, cancellationToken).ConfigureAwait(false);
            var config = ImageDocuments.ReadConfig(configBytes, manifest, what);
            if (platform is not null && !platform.Matches(config.Platform))
            {
                throw new InvalidImageException($"the image {descriptor.Digest} is for {config.Platform}, not the requested {platform}");
            }

            byDigest[descriptor.Digest] = new PlannedImage
            {
                Names = name is null ? [] : [name],
                ManifestDescriptor = descriptor,
                ManifestBytes = bytes,
                Manifest = manifest,
                ConfigBytes = configBytes,
                Config = config,
                LayerFiles = manifest.Layers.Select(l => BlobFile(source, l.Digest, $"layer {l.Digest}")).ToList(),
                LayerVerified = manifest.Layers.Select(_ => false).ToList(),
            };
        }

        return [.. byDigest.Values];
    }

    private static async Task<(Descriptor Descriptor, byte[] Bytes, ImageManifest Manifest)> ResolveManifestAsync(ImageSource source, Descriptor descriptor, Platform? platform, int depth, CancellationToken cancellationToken)
    {
        string what = $"{(MediaTypes.IsIndex(descriptor.MediaType) ? "index" : "manifest")} {descriptor.Digest}";
        byte[] bytes = await ContentStore.ReadVerifiedDocumentAsync(BlobFile(source, descriptor.Digest, what), descriptor.Digest, descriptor.Size, what, cancellationToken).ConfigureAwait(false);
        if (MediaTypes.IsManifest(descriptor.MediaType))
        {
            return (descriptor, bytes, ImageDocuments.ReadManifest(bytes, descriptor.MediaType, what));
        }

        if (!MediaTypes.IsIndex(descriptor.MediaType))
        {
            throw new InvalidImageException($"{what}: media type '{descriptor.MediaType}' is neither an image manifest nor an index");
        }

        if (depth >= MaxIndexDepth)
        {
            throw new InvalidImageException($"{what}: indexes nest deeper than {MaxIndexDepth} levels");
        }

        var index = ImageDocuments.ReadIndex(bytes, descriptor.MediaType, what);
        var wanted = platform ?? Platform.Host;
        var candidates = index.Manifests.Where(m => MediaTypes.IsIndex(m.MediaType) || (MediaTypes.IsManifest(m.MediaType) && (m.Platform is null ? index.Manifests.Count == 1 : wanted.Matches(m.Platform)))).ToList();
        var exact = candidates.FirstOrDefault(m => m.Platform is { } p && p.Variant == wanted.Variant) ?? candidates.FirstOrDefault();
        if (exact is null)
        {
            string available = string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString() ?? "unknown"));
            throw new InvalidImageException($"{what}: no manifest for {wanted} (available: {available}); choose one of those platforms");
        }

        return await ResolveManifestAsync(source, exact, platform, depth + 1, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<PlannedImage>> PlanDockerArchiveAsync(ImageSource source, int maxLayers, IProgress<ImageProgress>? progress, CancellationToken cancellationToken)
    {
        string manifestFile = source.GetFile("manifest.json", "docker-archive");
        var entries = ImageDocuments.Deserialize(await ContentStore.ReadBoundedAsync(manifestFile, "manifest.json", cancellationToken).ConfigureAwait(false), ImageJsonContext.Default.IReadOnlyListDockerArchiveEntry, "docker-archive manifest.json");
        var images = new List<PlannedImage>();
        foreach (var entry in entries)
        {
            string configWhat = $"docker-archive config '{entry.Config}'";
            CheckLayerCount(entry.Layers.Count, maxLayers, configWhat);
            byte[] configBytes = await ContentStore.ReadBoundedAsync(source.GetFile(entry.Config, configWhat), configWhat, cancellationToken).ConfigureAwait(false);
            var configDigest = Digest.Sha256(configBytes);
            CheckNamedDigest(entry.Config, configDigest, configWhat);
            var config = ImageDocuments.ReadConfig(configBytes, null, configWhat);
            if (config.RootFS.DiffIds.Count != entry.Layers.Count)
            {
                throw new InvalidImageException($"{configWhat}: manifest.json lists {entry.Layers.Count} layers but the config has {config.RootFS.DiffIds.Count} diff ids");
            }

            var layers = new List<Descriptor>();
            var files = new List<string>();
            for (int i = 0; i < entry.Layers.Count; i++)
            {
                string what = $"docker-archive layer '{entry.Layers[i]}'";
                string file = source.GetFile(entry.Layers[i], what);
                var compression = await DetectCompressionAsync(file, cancellationToken).ConfigureAwait(false);
                long size = new FileInfo(file).Length;
                Digest digest;
                var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (stream.ConfigureAwait(false))
                {
                    var layerProgress = progress is null ? null : new SynchronousProgress<long>(done => progress.Report(new ImageProgress(ImageProgressPhase.Verifying, Printable.Escape(entry.Layers[i]), done, size)));
                    (digest, _) = await ContentStore.HashCopyAsync(stream, null, "sha256", size, layerProgress, cancellationToken).ConfigureAwait(false);
                }

                CheckNamedDigest(entry.Layers[i], digest, what);
                if (compression == LayerCompression.None && digest != config.RootFS.DiffIds[i])
                {
                    throw new DigestMismatchException($"{what} (diff id {i} of the config)", config.RootFS.DiffIds[i], digest);
                }

                layers.Add(new Descriptor
                {
                    MediaType = compression switch { LayerCompression.Gzip => MediaTypes.OciLayerGzip, LayerCompression.Zstd => MediaTypes.OciLayerZstd, _ => MediaTypes.OciLayer },
                    Digest = digest,
                    Size = size,
                });
                files.Add(file);
            }

            var manifest = new ImageManifest
            {
                SchemaVersion = 2,
                MediaType = MediaTypes.OciManifest,
                Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest, Size = configBytes.Length },
                Layers = layers,
            };
            byte[] manifestBytes = ImageDocuments.Serialize(manifest);
            var names = new List<ImageReference>();
            foreach (var tag in entry.RepoTags ?? [])
            {
                names.Add(ImageReference.TryParse(tag, out var name) ? name : throw new InvalidImageException($"docker-archive manifest.json: RepoTags entry '{tag}' is not a valid image reference"));
            }

            images.Add(new PlannedImage
            {
                Names = names,
                ManifestDescriptor = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = Digest.Sha256(manifestBytes), Size = manifestBytes.Length },
                ManifestBytes = manifestBytes,
                Manifest = manifest,
                ConfigBytes = configBytes,
                Config = config,
                LayerFiles = files,
                LayerVerified = files.Select(_ => true).ToList(),
            });
        }

        return images;
    }

    /// <summary>
    /// Names an entry of an OCI layout: containerd's full image name first, then a <c>ref.name</c> that is a
    /// reference (with a name, not only a tag). A bare tag such as <c>latest</c> names nothing: it is imported
    /// untagged unless a tag is given.
    /// </summary>
    internal static ImageReference? NameOf(Descriptor entry)
    {
        if (entry.Annotations is not { } annotations)
        {
            return null;
        }

        if (annotations.TryGetValue(AnnotationKeys.ContainerdImageName, out var full) && ImageReference.TryParse(full, out var fullName))
        {
            return fullName;
        }

        return annotations.TryGetValue(AnnotationKeys.RefName, out var refName)
            && refName.IndexOfAny([':', '/', '@']) >= 0
            && ImageReference.TryParse(refName, out var name) ? name : null;
    }

    private static void CheckLayerCount(int layers, int maxLayers, string what)
    {
        if (layers > maxLayers)
        {
            throw new InvalidImageException($"{what}: the image has {layers} layers, more than the {maxLayers} the store accepts (ImageStoreOptions.MaxLayers)");
        }
    }

    private static string BlobFile(ImageSource source, Digest digest, string what) =>
        source.GetFile($"blobs/{digest.Algorithm}/{digest.Hex}", what);

    /// <summary>A file named after a sha256 (<c>blobs/sha256/HEX</c>, <c>HEX.json</c>) must have that digest.</summary>
    private static void CheckNamedDigest(string name, Digest actual, string what)
    {
        string stem = Path.GetFileNameWithoutExtension(name);
        if (stem.Length == 64 && Digest.TryParse("sha256:" + stem, out var named) && named != actual && !name.EndsWith("/layer.tar", StringComparison.Ordinal))
        {
            throw new DigestMismatchException(what, named, actual);
        }
    }

    private static async Task<LayerCompression> DetectCompressionAsync(string file, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            int read = await stream.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b ? LayerCompression.Gzip
                : read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd ? LayerCompression.Zstd
                : LayerCompression.None;
        }
    }
}
