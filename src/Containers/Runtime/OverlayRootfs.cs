using System.Collections.Immutable;
using Containers.Images;

namespace Containers.Runtime;

/// <summary>
/// A copy-on-write root filesystem: an overlay of read-only lower directories (an image's snapshot chain, or one
/// directory of your own) with an upper and a work directory of the container's own, so the lower directories
/// are never changed. Set it as <see cref="ContainerCreateOptions.Overlay"/>; the spec's <c>root.path</c> stays
/// empty and <c>root.readonly</c> makes the root read-only to the program (its upper directory then holds only the
/// mount points the runtime made).
/// </summary>
/// <remarks>
/// <para>
/// The runtime creates the container's directories when it creates the container, below
/// <see cref="ContainerRuntimeOptions.StorageDirectory"/> (on disk, so a stopped container's changes stay until it
/// is deleted), and removes them when the container is deleted, or when its creation fails. Mount points the
/// runtime needs (<c>/proc</c>, <c>/dev</c>, <c>/sys</c>, mount targets, a missing working directory) are created
/// in the upper directory, never in a lower one.
/// </para>
/// <para>
/// The overlay is assembled with the new mount API (one <c>fsconfig</c> call per lower directory, overlay's
/// <c>lowerdir+</c>, Linux 6.8 or later), so an image may have as many layers as overlayfs stacks (500), not just
/// as many as fit in one page of mount options. Without root the overlay is mounted inside the container's user
/// namespace with <c>userxattr</c> (Linux 5.11 or later).
/// </para>
/// </remarks>
/// <example>
/// <code>
/// // A container from an image in a store, writing to its own upper directory.
/// var rootfs = await OverlayRootfs.FromImageAsync(store, "busybox:latest", ct);
/// await using var container = await runtime.CreateAsync(null, ContainerSpec.For("/bin/sh", "-c", "echo hi > /x"),
///     new ContainerCreateOptions { Overlay = rootfs }, ct);
///
/// // A directory used copy-on-write: the container may change anything, /srv/rootfs stays as it is.
/// var scratch = OverlayRootfs.FromDirectory("/srv/rootfs");
/// </code>
/// </example>
public sealed record OverlayRootfs
{
    private OverlayRootfs(ImmutableArray<string> lowerDirectories, Digest? image, ImageStore? store, Digest? config = null)
    {
        LowerDirectories = lowerDirectories;
        Image = image;
        Store = store;
        Config = config;
    }

    /// <summary>The lower directories, top first (absolute host paths); the first one wins where several hold a path.</summary>
    public ImmutableArray<string> LowerDirectories { get; }

    /// <summary>
    /// The image (manifest digest) the lower directories come from, or null for directories of your own. A
    /// container of an image holds a lease on it: the store does not remove it while the container exists.
    /// </summary>
    public Digest? Image { get; }

    /// <summary>The store <see cref="Image"/> is in, which the container's lease is taken in.</summary>
    internal ImageStore? Store { get; }

    /// <summary>The digest of <see cref="Image"/>'s config blob, with which a lease checks that the image is still whole without reading it again.</summary>
    internal Digest? Config { get; }

    /// <summary>
    /// Whether the lower directories keep overlay metadata (opaque directories) in <c>trusted.*</c> xattrs, as a
    /// store written by root does; such layers cannot be mounted inside a user namespace.
    /// </summary>
    internal bool TrustedMetadata => Store is { Rootless: false };

    /// <summary>
    /// The given directories as lower directories, top first. Each must be an absolute path to an existing
    /// directory; none is ever written to.
    /// </summary>
    /// <param name="lowerDirectories">The directories, top first (at least one, at most 500).</param>
    /// <exception cref="ArgumentException">The list is empty, too long, or holds a relative path or one with ':' or ','.</exception>
    /// <exception cref="RootfsNotFoundException">A directory does not exist.</exception>
    public static OverlayRootfs FromDirectories(IEnumerable<string> lowerDirectories)
    {
        ArgumentNullException.ThrowIfNull(lowerDirectories);
        var list = lowerDirectories.ToImmutableArray();
        Check(list);
        foreach (var directory in list)
        {
            if (!Directory.Exists(directory))
            {
                throw new RootfsNotFoundException(directory);
            }
        }

        return new OverlayRootfs(list, null, null);
    }

    /// <summary>
    /// <paramref name="directory"/> used copy-on-write: its only lower directory. What the container changes goes to
    /// its own upper directory; <paramref name="directory"/> stays as it is.
    /// </summary>
    /// <param name="directory">An absolute path to an existing directory.</param>
    /// <exception cref="ArgumentException">The path is relative or holds ':' or ','.</exception>
    /// <exception cref="RootfsNotFoundException">The directory does not exist.</exception>
    public static OverlayRootfs FromDirectory(string directory) => FromDirectories([directory]);

    /// <summary>
    /// The snapshot chain of an image in <paramref name="store"/> as lower directories (a missing snapshot is
    /// applied from its layer first). Containers created with it hold a lease on the image from their creation
    /// until they are deleted: <see cref="ImageStore.RemoveAsync(string, bool, CancellationToken)"/> refuses to remove it and
    /// <see cref="ImageStore.PruneAsync"/> keeps its content.
    /// </summary>
    /// <param name="store">The store holding the image.</param>
    /// <param name="reference">A name, a digest or a unique digest prefix.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="ImageNotFoundException">No image matches.</exception>
    /// <exception cref="ArgumentException">The image has no layers.</exception>
    public static async Task<OverlayRootfs> FromImageAsync(ImageStore store, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var image = await store.ResolveAsync(reference, cancellationToken).ConfigureAwait(false);
        return await FromImageAsync(store, image, reference, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="FromImageAsync(ImageStore, string, CancellationToken)"/> for an image <paramref name="store"/> resolved just now.</summary>
    internal static async Task<OverlayRootfs> FromImageAsync(ImageStore store, Image image, string reference, CancellationToken cancellationToken)
    {
        var chain = await store.GetSnapshotChainAsync(image, cancellationToken).ConfigureAwait(false);
        if (chain.Count == 0)
        {
            throw new ArgumentException($"the image {reference} has no layers: there is nothing to make a root filesystem of", nameof(reference));
        }

        var list = chain.ToImmutableArray();
        Check(list);
        return new OverlayRootfs(list, image.Digest, store, image.Manifest.Config.Digest);
    }

    /// <summary>The overlay a container was created with, from the lower directories its state keeps (no lease is taken: the container holds one).</summary>
    internal static OverlayRootfs Restore(IReadOnlyList<string> lowerDirectories, ImageStore? store) => new([.. lowerDirectories], null, store);

    /// <inheritdoc/>
    public bool Equals(OverlayRootfs? other) =>
        other is not null && LowerDirectories.SequenceEqual(other.LowerDirectories) && Image == other.Image && ReferenceEquals(Store, other.Store);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var directory in LowerDirectories)
        {
            hash.Add(directory);
        }

        hash.Add(Image);
        return hash.ToHashCode();
    }

    private static void Check(ImmutableArray<string> list)
    {
        if (list.IsEmpty)
        {
            throw new ArgumentException("an overlay root needs at least one lower directory", "lowerDirectories");
        }

        if (list.Length > ImageStoreOptions.DefaultMaxLayers)
        {
            throw new ArgumentException($"an overlay root stacks at most {ImageStoreOptions.DefaultMaxLayers} lower directories, not {list.Length}", "lowerDirectories");
        }

        foreach (var directory in list)
        {
            // overlayfs takes ':' as a layer separator and ',' as an option separator even in lowerdir+.
            if (!Path.IsPathRooted(directory) || directory.Contains(':', StringComparison.Ordinal) || directory.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"a lower directory must be an absolute path without ':' or ',': '{directory}'", "lowerDirectories");
            }
        }
    }
}
