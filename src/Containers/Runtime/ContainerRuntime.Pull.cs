using Containers.Distribution;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Runtime;

public sealed partial class ContainerRuntime
{
    private readonly Lock _registryGate = new();
    private RegistryClient? _registry;
    private RegistryClient? _ownRegistry;

    /// <summary>
    /// Finds an image in the runtime's store (<see cref="ContainerRuntimeOptions.Images"/>) or pulls it into the store
    /// first, as <paramref name="policy"/> says: what <c>run --pull</c> does before it creates the container.
    /// </summary>
    /// <param name="image">The image: a name (<c>registry.example.com/team/app:1.0</c>, <c>busybox</c>), a digest reference, or (store only) a digest or unique digest prefix.</param>
    /// <param name="policy">Never pull, pull when the store has no match, or always pull.</param>
    /// <param name="progress">Receives the pull's progress from several threads; null for none.</param>
    /// <param name="cancellationToken">Cancels the pull; the image is then not tagged.</param>
    /// <returns>The image in the store.</returns>
    /// <exception cref="ImageNotFoundException">The store has no such image and <paramref name="policy"/> is <see cref="PullPolicy.Never"/>, or <paramref name="image"/> is not a reference a registry could serve.</exception>
    /// <exception cref="RegistryException">The pull failed: the registry's error is in <see cref="RegistryException.Errors"/>.</exception>
    /// <exception cref="InvalidImageException">The registry served a malformed image, or bytes that do not match their digest; nothing of it was tagged.</exception>
    /// <example>
    /// <code>
    /// Image app = await runtime.PullImageAsync("registry.example.com/team/app:1.0", PullPolicy.Always, progress: null, ct);
    /// await using var container = await runtime.CreateFromImageAsync(null, app, null, ct);
    /// </code>
    /// </example>
    public Task<Image> PullImageAsync(string image, PullPolicy policy, IProgress<TransferProgress>? progress, CancellationToken cancellationToken) =>
        PullImageAsync(image, policy, platform: null, progress, cancellationToken);

    /// <summary>
    /// Finds or pulls an image as <see cref="PullImageAsync(string, PullPolicy, IProgress{TransferProgress}?, CancellationToken)"/>
    /// does, for <paramref name="platform"/>: the platform chosen from a multi-platform image, and the one a stored
    /// image must have to be used (under <see cref="PullPolicy.Missing"/> a stored image of another platform counts
    /// as missing). What <c>run --platform</c> does before it creates the container.
    /// </summary>
    /// <param name="image">The image: a name, a digest reference, or (store only) a digest or unique digest prefix.</param>
    /// <param name="policy">Never pull, pull when the store has no match for the platform, or always pull.</param>
    /// <param name="platform">The platform, <c>os/arch[/variant]</c>; null for the host's when pulling and any when found in the store.</param>
    /// <param name="progress">Receives the pull's progress from several threads; null for none.</param>
    /// <param name="cancellationToken">Cancels the pull; the image is then not tagged.</param>
    /// <returns>The image in the store.</returns>
    /// <exception cref="ImagePlatformException">The store's image is for another platform and <paramref name="policy"/> is <see cref="PullPolicy.Never"/>.</exception>
    /// <exception cref="RegistryNotFoundException">The registry has the image but not for <paramref name="platform"/>; the message lists the platforms it offers.</exception>
    /// <example>
    /// <code>
    /// Image arm = await runtime.PullImageAsync("registry.example.com/team/app:1.0", PullPolicy.Missing, Platform.Parse("linux/arm64"), null, ct);
    /// </code>
    /// </example>
    public async Task<Image> PullImageAsync(string image, PullPolicy policy, Platform? platform, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var store = await ImagesAsync(cancellationToken).ConfigureAwait(false);
        return await FindOrPullAsync(store, image, policy, platform, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Image> FindOrPullAsync(ImageStore store, string image, PullPolicy policy, Platform? platform, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "use PullPolicy.Never, Missing or Always");
        }

        if (policy != PullPolicy.Always)
        {
            try
            {
                var found = await store.ResolveAsync(image, cancellationToken).ConfigureAwait(false);
                if (platform is null || platform.Matches(found.Config.Platform))
                {
                    return found;
                }

                if (policy == PullPolicy.Never || !Pullable(image))
                {
                    throw new ImagePlatformException(image, found.Config.Platform, platform, wantedIsHost: false);
                }

                RuntimeLog.ImageMissing(_logger, $"{image} ({platform})");
            }
            catch (ImageNotFoundException) when (policy == PullPolicy.Missing && Pullable(image))
            {
                RuntimeLog.ImageMissing(_logger, image);
            }
        }
        else if (!Pullable(image))
        {
            // A digest prefix names a stored image only: there is nothing a registry could be asked for.
            throw new ImageNotFoundException(image);
        }

        RuntimeLog.ImagePulling(_logger, image, policy);
        return await Registry().PullAsync(store, image, new PullOptions { Platform = platform }, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a registry could serve <paramref name="image"/>: a name, not a digest of the store (<c>sha256:…</c> would parse as a name with a tag).</summary>
    private static bool Pullable(string image) =>
        ImageReference.TryParse(image, out _) && !Digest.TryParse(image, out _) && !image.StartsWith("sha256:", StringComparison.Ordinal);

    /// <summary>The configured client, or one made with the defaults at the first pull.</summary>
    private RegistryClient Registry()
    {
        lock (_registryGate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return _registry ??= _ownRegistry = new RegistryClient(new RegistryClientOptions { LoggerFactory = _loggers });
        }
    }

    private void DisposeOwnRegistry()
    {
        lock (_registryGate)
        {
            _ownRegistry?.Dispose();
        }
    }
}
