using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Distribution;

/// <summary>
/// A client for OCI distribution registries (Docker Hub, GHCR, a self-hosted <c>distribution</c> registry): resolves
/// references, pulls images into an <see cref="ImageStore"/> and pushes them from it. One client keeps connections,
/// the scheme each registry speaks and bearer tokens per scope; it is thread-safe and meant to be reused.
/// </summary>
/// <example>
/// <code>
/// using var registry = new RegistryClient();
/// await using var store = await ImageStore.OpenAsync();
/// Image image = await registry.PullAsync(store, "localhost:5000/team/app:1.0", progress: null, ct);
/// await store.TagAsync("localhost:5000/team/app:1.0", "localhost:5000/team/app:1.1", ct);
/// Digest pushed = await registry.PushAsync(store, "localhost:5000/team/app:1.1", destination: null, progress: null, ct);
/// </code>
/// </example>
public sealed class RegistryClient : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly RegistryTransport _transport;
    private readonly ManifestResolver _resolver;
    private readonly ImagePuller _puller;
    private readonly ImagePusher _pusher;

    /// <summary>Creates a client.</summary>
    /// <param name="options">Trust, credentials, retries and transfer settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range, or the CA file does not exist.</exception>
    public RegistryClient(RegistryClientOptions? options = null)
    {
        _options = options ?? new RegistryClientOptions();
        _options.Validate();
        ILogger logger = _options.LoggerFactory?.CreateLogger<RegistryClient>() ?? NullLogger<RegistryClient>.Instance;
        _transport = new RegistryTransport(_options, logger);
        _resolver = new ManifestResolver(_transport);
        _puller = new ImagePuller(_transport, _options, logger);
        _pusher = new ImagePusher(_transport, _options, logger);
    }

    /// <summary>Resolves a reference to the image manifest for a platform, without storing anything.</summary>
    /// <param name="reference"><c>name[:tag]</c> or <c>name@digest</c>; Docker Hub names are normalised (<c>busybox</c> is <c>docker.io/library/busybox:latest</c>).</param>
    /// <param name="platform">The platform to choose from an index; null for the host's.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The verified manifest and its descriptor.</returns>
    /// <exception cref="RegistryNotFoundException">The registry has no such manifest, or none for the platform.</exception>
    /// <exception cref="RegistryAuthenticationException">Access was refused.</exception>
    /// <exception cref="InvalidImageException">A document is malformed, too large or does not match its digest.</exception>
    public async Task<ResolvedImage> ResolveAsync(string reference, Platform? platform, CancellationToken cancellationToken)
    {
        var parsed = ImageReference.Parse(reference);
        var endpoint = await _transport.EndpointAsync(parsed.Registry, cancellationToken).ConfigureAwait(false);
        var repository = new Repository(endpoint, parsed.Repository, Repository.PullScope(parsed.Repository));
        return await _resolver.ResolveAsync(repository, parsed, platform ?? Platform.Host, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pulls an image for the host's platform into <paramref name="store"/>, unpacking its layers.</summary>
    /// <param name="store">The store to pull into.</param>
    /// <param name="reference"><c>name[:tag]</c> or <c>name@digest</c>.</param>
    /// <param name="progress">Receives progress from several threads; null for none.</param>
    /// <param name="cancellationToken">Cancels the pull; the image is not tagged and nothing unverified is stored.</param>
    /// <returns>The pulled image, tagged with the reference (unless it names a digest only).</returns>
    public Task<Image> PullAsync(ImageStore store, string reference, IProgress<TransferProgress>? progress, CancellationToken cancellationToken) =>
        PullAsync(store, reference, new PullOptions(), progress, cancellationToken);

    /// <summary>Pulls an image as <see cref="PullAsync(ImageStore, string, IProgress{TransferProgress}?, CancellationToken)"/> does, with a platform choice.</summary>
    /// <param name="store">The store to pull into.</param>
    /// <param name="reference"><c>name[:tag]</c> or <c>name@digest</c>.</param>
    /// <param name="options">The platform, and whether to unpack.</param>
    /// <param name="progress">Receives progress from several threads; null for none.</param>
    /// <param name="cancellationToken">Cancels the pull; the image is not tagged and nothing unverified is stored.</param>
    /// <returns>The pulled image.</returns>
    /// <exception cref="RegistryException">A request failed; the registry's error codes are in <see cref="RegistryException.Errors"/>.</exception>
    /// <exception cref="InvalidImageException">A document or blob is malformed or does not match its digest; nothing of it was stored.</exception>
    public async Task<Image> PullAsync(ImageStore store, string reference, PullOptions options, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var parsed = ImageReference.Parse(reference);
        var endpoint = await _transport.EndpointAsync(parsed.Registry, cancellationToken).ConfigureAwait(false);
        var repository = new Repository(endpoint, parsed.Repository, Repository.PullScope(parsed.Repository));
        var resolved = await _resolver.ResolveAsync(repository, parsed, options.Platform ?? Platform.Host, cancellationToken).ConfigureAwait(false);
        return await _puller.PullAsync(store, repository, resolved, options.Unpack, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pushes a stored image (imported, pulled or committed) to a registry.</summary>
    /// <param name="store">The store holding the image.</param>
    /// <param name="image">The image: a name, a digest or a unique digest prefix.</param>
    /// <param name="destination">Where to push, <c>registry/repository:tag</c>; null for the name <paramref name="image"/> was found by.</param>
    /// <param name="progress">Receives progress from several threads; null for none.</param>
    /// <param name="cancellationToken">Cancels the push; the tag is only set once every blob is there.</param>
    /// <returns>The manifest digest, as the registry stores it.</returns>
    /// <exception cref="ImageNotFoundException">The store has no such image.</exception>
    /// <exception cref="RegistryException">A request failed.</exception>
    public async Task<Digest> PushAsync(ImageStore store, string image, string? destination, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (found, name) = await store.FindWithNameAsync(image, cancellationToken).ConfigureAwait(false);
        var target = destination is not null
            ? ImageReference.Parse(destination)
            : name ?? throw new InvalidReferenceException(image, "the image was not found by a name; give the destination (registry/repository:tag)");
        return await _pusher.PushAsync(store, found, target, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks credentials against a registry (as <c>docker login</c> does) and, when they work, saves them in
    /// <paramref name="saveTo"/>.
    /// </summary>
    /// <param name="registry">The registry: <c>host[:port]</c>, <c>docker.io</c>, or a URL such as <c>https://host/</c>.</param>
    /// <param name="credentials">The user name and password or token.</param>
    /// <param name="saveTo">Where to save them; null to only check.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The registry name the credentials were filed under.</returns>
    /// <exception cref="RegistryAuthenticationException">The registry rejected the credentials.</exception>
    public async Task<string> LoginAsync(string registry, RegistryCredentials credentials, DockerCredentials? saveTo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        string name = NormaliseRegistry(registry);
        var endpoint = await _transport.EndpointAsync(name, cancellationToken).ConfigureAwait(false);
        await _transport.Auth.VerifyAsync(endpoint, credentials, cancellationToken).ConfigureAwait(false);
        if (saveTo is not null)
        {
            await saveTo.SaveAsync(name, credentials, cancellationToken).ConfigureAwait(false);
        }

        return name;
    }

    /// <summary>The registry name of <c>host[:port]</c>, a URL, or a Docker Hub alias (<c>docker.io</c>).</summary>
    /// <param name="registry">What the user typed.</param>
    /// <returns>The <c>host[:port]</c> that references use.</returns>
    /// <exception cref="InvalidReferenceException">It is not a registry name.</exception>
    public static string NormaliseRegistry(string registry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registry);
        string name = registry.Trim();
        if (name.Contains("://", StringComparison.Ordinal))
        {
            name = Uri.TryCreate(name, UriKind.Absolute, out var uri) ? RegistryHosts.Authority(uri) : name;
        }

        name = name.TrimEnd('/');
        if (name is "index.docker.io" or "registry-1.docker.io")
        {
            name = ImageReference.DefaultRegistry;
        }

        return ImageReference.TryParse($"{name}/x", out var parsed) && parsed.Registry == name
            ? name
            : throw new InvalidReferenceException(registry, "not a registry name; expected host[:port], for example localhost:5000 or docker.io");
    }

    /// <inheritdoc />
    public void Dispose() => _transport.Dispose();
}
