using Containers.Distribution;
using Containers.Images.Model;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// What a container made from an image changes of the image's defaults (its config's <c>Entrypoint</c>, <c>Cmd</c>,
/// <c>Env</c>, <c>WorkingDir</c>, <c>User</c>, <c>Labels</c>, <c>StopSignal</c>), with Docker's rules: a
/// <see cref="Command"/> replaces the image's <c>Cmd</c>; an <see cref="Entrypoint"/> replaces the image's
/// entrypoint and also drops its <c>Cmd</c>; <see cref="Env"/> comes after the image's variables and wins.
/// Everything else of the spec (hostname, mounts, namespaces, a terminal) is <see cref="Configure"/>'s.
/// </summary>
/// <example>
/// <code>
/// var result = await runtime.RunFromImageAsync("busybox:1.36", new ImageContainerOptions
/// {
///     Command = ["sh", "-c", "echo $GREETING from $(pwd)"],
///     Env = ["GREETING=hello"],
///     WorkingDirectory = "/srv",
///     User = "nobody",
///     Configure = spec => spec.WithHostname("box"),
/// }, ct);
/// </code>
/// </example>
public sealed record ImageContainerOptions
{
    /// <summary>The defaults: everything as the image says.</summary>
    public static ImageContainerOptions Default { get; } = new();

    /// <summary>The arguments that replace the image's <c>Cmd</c> (Docker's <c>run IMAGE COMMAND ARG...</c>); null keeps it.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>
    /// The entrypoint that replaces the image's (Docker's <c>--entrypoint</c>); the image's <c>Cmd</c> is then not
    /// used, only <see cref="Command"/>. An empty list runs <see cref="Command"/> alone. Null keeps the image's.
    /// </summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Environment variables as <c>NAME=VALUE</c>, set after the image's (a name the image sets gets this value).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>The working directory (absolute) instead of the image's <c>WorkingDir</c>; it is created when missing.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// The user instead of the image's <c>User</c>: <c>name</c>, <c>uid</c>, <c>name:group</c> or <c>uid:gid</c>.
    /// Names are looked up in the image's own <c>/etc/passwd</c> and <c>/etc/group</c>; numbers never are.
    /// </summary>
    public string? User { get; init; }

    /// <summary>
    /// Supplementary groups the process gets besides its user's (Docker's <c>--group-add</c>): names, looked up in the
    /// image's own <c>/etc/group</c>, or gids, used as they are.
    /// </summary>
    public IReadOnlyList<string> GroupAdd { get; init; } = [];

    /// <summary>Labels kept with the container, after the image's (the same key gets this value).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The signal that stops the container (a name such as <c>SIGQUIT</c>, or a number) instead of the image's <c>StopSignal</c>.</summary>
    public string? StopSignal { get; init; }

    /// <summary>
    /// Named volumes to mount (created when missing; an empty one gets the image's content at its path first). A
    /// path the image declares in <c>Volumes</c> that no mount covers gets an anonymous volume.
    /// </summary>
    public IReadOnlyList<VolumeMount> Volumes { get; init; } = [];

    /// <summary>
    /// Whether the image is pulled from its registry first (through <see cref="ContainerRuntimeOptions.Registry"/>):
    /// <see cref="PullPolicy.Never"/> (the default) uses the store's image only.
    /// </summary>
    public PullPolicy Pull { get; init; } = PullPolicy.Never;

    /// <summary>
    /// The platform, <c>os/arch[/variant]</c> (Docker's <c>--platform</c>): chosen from a multi-platform image when
    /// pulling, and required of the stored image (under <see cref="PullPolicy.Missing"/> a stored image of another
    /// platform is pulled again for this one). Null pulls the host's platform. Whatever is asked, a container is only
    /// made from an image of the host's platform: another one is an <see cref="Containers.Images.ImagePlatformException"/>.
    /// </summary>
    public Platform? Platform { get; init; }

    /// <summary>Receives the progress of a pull (from several threads; it must be thread-safe); null for none.</summary>
    public IProgress<TransferProgress>? PullProgress { get; init; }

    /// <summary>Stdio, an init and a kept log, as for any container; null for <see cref="ContainerCreateOptions.Default"/>. Its <see cref="ContainerCreateOptions.Overlay"/> must be null: the image gives the root.</summary>
    public ContainerCreateOptions? Create { get; init; }

    /// <summary>Input, timeout, output cap and id for <see cref="ContainerRuntime.RunFromImageAsync(string, ImageContainerOptions?, CancellationToken)"/>; null for <see cref="ContainerRunOptions.Default"/>. Creating alone does not use it.</summary>
    public ContainerRunOptions? Run { get; init; }

    /// <summary>
    /// Changes the spec made from the image before it is validated: hostname, mounts, namespaces, a terminal. It gets
    /// the image's root, process and mounts already set; null changes nothing.
    /// </summary>
    public Func<ContainerSpec, ContainerSpec>? Configure { get; init; }
}
