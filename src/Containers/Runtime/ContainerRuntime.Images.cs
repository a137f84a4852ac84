using Containers.Images;
using Containers.Images.Model;
using Containers.Runtime.Images;
using Containers.Spec;

namespace Containers.Runtime;

public sealed partial class ContainerRuntime
{
    private readonly SemaphoreSlim _imagesOpening = new(1, 1);
    private ImageStore? _images;

    /// <summary>
    /// Creates a container from an image of the store (<see cref="ContainerRuntimeOptions.Images"/>) in the OCI
    /// <c>created</c> state, as Docker's <c>create</c> does: its root is the image's layers with a writable layer of
    /// its own on top, and its process is the image config's entrypoint and command, environment, working directory
    /// (created when missing) and user (looked up in the image's own <c>/etc/passwd</c> and <c>/etc/group</c>),
    /// changed by <paramref name="overrides"/>. The image's exposed ports, labels and stop signal are kept in the
    /// container's <see cref="ContainerInfo.Image"/>; its <c>Volumes</c> get anonymous volumes.
    /// </summary>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="image">The image: a name (<c>busybox:1.36</c>), a digest or a unique digest prefix.</param>
    /// <param name="overrides">What to change of the image's defaults, volumes, and stdio and init (<see cref="ImageContainerOptions.Create"/>); null for none.</param>
    /// <param name="cancellationToken">Cancels the creation; nothing is left behind.</param>
    /// <exception cref="ImageNotFoundException">No image in the store matches <paramref name="image"/> (and <see cref="ImageContainerOptions.Pull"/> did not ask to pull it).</exception>
    /// <exception cref="Distribution.RegistryException">The pull that <see cref="ImageContainerOptions.Pull"/> asked for failed.</exception>
    /// <exception cref="InvalidImageConfigException">The image's config (with the overrides) cannot make a container: nothing to run, an unknown user, a bad volume path.</exception>
    /// <exception cref="InvalidSpecException">The spec made from the image (after <see cref="ImageContainerOptions.Configure"/>) has problems.</exception>
    /// <exception cref="ExecutableNotFoundException">The program is not in the image.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container with this id exists.</exception>
    /// <exception cref="ContainerStartException">A setup step failed in the child; it names the step and errno.</exception>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { Images = store });
    /// await using var web = await runtime.CreateFromImageAsync("web", "nginx:1.25", new ImageContainerOptions { Env = ["NGINX_PORT=8080"] }, ct);
    /// await web.StartAsync(ct);
    /// await using var pulled = await runtime.CreateFromImageAsync(null, "registry.example.com/team/app:1.0", new ImageContainerOptions { Pull = PullPolicy.Missing }, ct);
    /// </code>
    /// </example>
    public Task<Container> CreateFromImageAsync(string? id, string image, ImageContainerOptions? overrides, CancellationToken cancellationToken) =>
        CreateFromReferenceAsync(id, image, overrides, run: false, cancellationToken);

    private async Task<Container> CreateFromReferenceAsync(string? id, string image, ImageContainerOptions? overrides, bool run, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        var store = await ImagesAsync(cancellationToken).ConfigureAwait(false);
        var resolved = await FindOrPullAsync(store, image, overrides?.Pull ?? PullPolicy.Never, overrides?.Platform, overrides?.PullProgress, cancellationToken).ConfigureAwait(false);
        return await CreateFromImageAsync(id, store, resolved, image, overrides, run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a container from <paramref name="image"/>, found before in the runtime's store, as <see cref="CreateFromImageAsync(string?, string, ImageContainerOptions?, CancellationToken)"/> does.</summary>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="image">An image of <see cref="ContainerRuntimeOptions.Images"/> (from its <c>ResolveAsync</c> or <c>ListAsync</c>).</param>
    /// <param name="overrides">What to change of the image's defaults; null for none.</param>
    /// <param name="cancellationToken">Cancels the creation; nothing is left behind.</param>
    /// <example>
    /// <code>
    /// var image = await store.ResolveAsync("busybox:1.36", ct);
    /// await using var box = await runtime.CreateFromImageAsync(null, image, new ImageContainerOptions { Command = ["sleep", "60"] }, ct);
    /// </code>
    /// </example>
    public Task<Container> CreateFromImageAsync(string? id, Image image, ImageContainerOptions? overrides, CancellationToken cancellationToken) =>
        CreateFromStoredAsync(id, image, overrides, run: false, cancellationToken);

    private async Task<Container> CreateFromStoredAsync(string? id, Image image, ImageContainerOptions? overrides, bool run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var store = await ImagesAsync(cancellationToken).ConfigureAwait(false);
        // Found again by digest: the image must be in this store, and still be.
        var digest = image.Digest.ToString();
        var found = await store.ResolveAsync(digest, cancellationToken).ConfigureAwait(false);
        return await CreateFromImageAsync(id, store, found, digest, overrides, run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a container made from an image to completion, as <see cref="RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>
    /// runs a spec: create (as <see cref="CreateFromImageAsync(string?, string, ImageContainerOptions?, CancellationToken)"/>),
    /// start, feed stdin, collect the output, wait, delete (its writable layer with it). Input, timeout, output cap and
    /// id come from <see cref="ImageContainerOptions.Run"/>.
    /// </summary>
    /// <param name="image">The image: a name, a digest or a unique digest prefix.</param>
    /// <param name="overrides">What to change of the image's defaults, and how to run it; null for none.</param>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>.</param>
    /// <exception cref="ImageNotFoundException">No image in the store matches <paramref name="image"/>.</exception>
    /// <exception cref="InvalidImageConfigException">The image's config (with the overrides) cannot make a container.</exception>
    /// <example>
    /// <code>
    /// var result = await runtime.RunFromImageAsync("busybox:1.36", new ImageContainerOptions { Command = ["sh", "-c", "id -un; pwd"], User = "nobody" }, ct);
    /// Console.Write(result.Stdout); // "nobody\n/\n"
    /// </code>
    /// </example>
    public async Task<ContainerResult> RunFromImageAsync(string image, ImageContainerOptions? overrides, CancellationToken cancellationToken)
    {
        var options = overrides?.Run ?? ContainerRunOptions.Default;
        options.Validate();
        // Created as a run's: its process goes on to exec by itself, without waiting for a start.
        var container = await CreateFromReferenceAsync(options.Id, image, overrides, run: true, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            return await new ContainerRun(container, options, _logger).RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a container made from <paramref name="image"/> to completion, as <see cref="RunFromImageAsync(string, ImageContainerOptions?, CancellationToken)"/> does.</summary>
    /// <param name="image">An image of <see cref="ContainerRuntimeOptions.Images"/>.</param>
    /// <param name="overrides">What to change of the image's defaults, and how to run it; null for none.</param>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>.</param>
    public async Task<ContainerResult> RunFromImageAsync(Image image, ImageContainerOptions? overrides, CancellationToken cancellationToken)
    {
        var options = overrides?.Run ?? ContainerRunOptions.Default;
        options.Validate();
        var container = await CreateFromStoredAsync(options.Id, image, overrides, run: true, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            return await new ContainerRun(container, options, _logger).RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Container> CreateFromImageAsync(
        string? id, ImageStore store, Image image, string reference, ImageContainerOptions? overrides, bool run, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        overrides ??= ImageContainerOptions.Default;
        CheckPlatform(image, reference, overrides.Platform);
        id ??= NewId();
        Runtime.StateDirectory.ValidateId(id);
        var made = ImageSpec.From(image.Config.Config, overrides);
        var root = await OverlayRootfs.FromImageAsync(store, image, reference, cancellationToken).ConfigureAwait(false);
        var files = new LayeredFiles(root.LowerDirectories, OpaqueXattr(store));
        var spec = made.Spec;
        if (made.User is { } user)
        {
            spec = spec with { Process = spec.Process! with { User = ResolveUser(files, user) } };
        }

        if (overrides.GroupAdd.Count > 0)
        {
            spec = spec with { Process = spec.Process! with { User = AddGroups(files, spec.Process.User, overrides.GroupAdd) } };
        }

        var facts = new ContainerImage
        {
            Reference = reference,
            Digest = image.Digest.ToString(),
            ExposedPorts = made.ExposedPorts,
            Labels = made.Labels,
            Volumes = made.Volumes,
            Config = made.Config,
        };
        RuntimeLog.ContainerFromImage(_logger, id, reference, image.Digest.ToString(), root.LowerDirectories.Length);
        var keepOwners = Environment.IsPrivilegedProcess && !store.Rootless;
        return await ImageRoots.CreateAsync(
            this, made, spec, root, files, facts, overrides, VolumesOf(store), keepOwners, id, overrides.Create, run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses an image of another platform than the requested one, or than the host's: its programs would fail with
    /// ENOEXEC (or run under an emulator the host happens to register), so it is stopped here with a clear error.
    /// </summary>
    private static void CheckPlatform(Image image, string reference, Platform? requested)
    {
        var actual = image.Config.Platform;
        if (requested is not null && !requested.Matches(actual))
        {
            throw new ImagePlatformException(reference, actual, requested, wantedIsHost: false);
        }

        if (!Platform.Host.Matches(actual))
        {
            throw new ImagePlatformException(reference, actual, Platform.Host, wantedIsHost: true);
        }
    }

    private static string OpaqueXattr(ImageStore store) => store.Rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";

    private static Spec.UserSpec ResolveUser(LayeredFiles files, string user)
    {
        try
        {
            return ContainerUser.Resolve(LinesOf(files), user);
        }
        catch (ContainersException e)
        {
            throw new InvalidImageConfigException("User", e.Message);
        }
    }

    private static Spec.UserSpec AddGroups(LayeredFiles files, Spec.UserSpec user, IReadOnlyList<string> groups)
    {
        try
        {
            return ContainerUser.AddGroups(LinesOf(files), user, groups);
        }
        catch (ContainersException e)
        {
            throw new InvalidImageConfigException("GroupAdd", e.Message);
        }
    }

    /// <summary>Reads the lines of a file of the image (<c>etc/passwd</c>, <c>etc/group</c>) through its layers; none when it is missing.</summary>
    private static Func<string, string[]> LinesOf(LayeredFiles files) =>
        path => files.ReadFile("/" + path, ContainerUser.MaxFileBytes) is { } bytes
            ? System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : [];

    /// <summary>The runtime's image store: <see cref="ContainerRuntimeOptions.Images"/>, or the default store opened on first use.</summary>
    internal async ValueTask<ImageStore> ImagesAsync(CancellationToken cancellationToken)
    {
        if (_images is { } images)
        {
            return images;
        }

        await _imagesOpening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _images ??= await ImageStore.OpenAsync(new ImageStoreOptions { LoggerFactory = _loggers }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _imagesOpening.Release();
        }
    }
}
