namespace Containers.Runtime;

/// <summary>
/// The image a container was made from, as its state keeps it: what <c>inspect</c> shows of the image, and what
/// the container keeps of its config beside the spec (Docker keeps the same in a container's config).
/// </summary>
/// <example>
/// <code>
/// var info = container.Info;
/// Console.WriteLine($"{info.Image?.Reference} {info.Image?.Digest} ports: {string.Join(' ', info.Image?.ExposedPorts ?? [])}");
/// </code>
/// </example>
public sealed record ContainerImage
{
    /// <summary>The reference the container was made from, as the caller gave it (<c>busybox:1.36</c>, or a digest).</summary>
    public required string Reference { get; init; }

    /// <summary>The image's manifest digest (<c>sha256:…</c>).</summary>
    public required string Digest { get; init; }

    /// <summary>The ports the image declares (<c>80/tcp</c>); nothing publishes them.</summary>
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];

    /// <summary>The image's labels, then the caller's.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The paths the image declares as volumes; each gets an anonymous volume.</summary>
    public IReadOnlyList<string> Volumes { get; init; } = [];

    /// <summary>
    /// The image's config as the container was made from it: the image's entrypoint, command, environment, working
    /// directory, user, labels and stop signal with the caller's <see cref="ImageContainerOptions"/> applied (not
    /// what <see cref="ImageContainerOptions.Configure"/> changed in the spec). <see cref="Container.CommitAsync"/>
    /// records it as the new image's config. Null in a state written before it was kept.
    /// </summary>
    public Containers.Images.Model.ContainerConfig? Config { get; init; }
}
