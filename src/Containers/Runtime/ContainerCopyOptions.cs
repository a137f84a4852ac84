namespace Containers.Runtime;

/// <summary>How <see cref="Container.CopyToAsync(string, string, ContainerCopyOptions?, CancellationToken)"/> and its siblings copy (<c>docker cp</c>'s flags).</summary>
/// <example>
/// <code>
/// // cp -a -L: the link's target under the link's name, owners kept as they are inside the container.
/// await container.CopyFromAsync("/etc/localtime", "./localtime", new ContainerCopyOptions { FollowLink = true, KeepOwners = true }, ct);
/// </code>
/// </example>
public sealed record ContainerCopyOptions
{
    /// <summary>
    /// Follow a symbolic link named as the source (<c>-L</c>, <c>--follow-link</c>): its target is copied under the
    /// link's name, resolved where the source is (inside the container: beneath its root). Links inside a copied
    /// tree are always copied as links.
    /// </summary>
    public bool FollowLink { get; init; }

    /// <summary>
    /// Keep owners (<c>-a</c>, <c>--archive</c>): what is copied in gets the source's uid and gid as ids inside the
    /// container (the host ids its user namespace maps them to), what is copied out the ids it has inside the
    /// container. Without it what is copied in belongs to the container's root and what is copied out to the
    /// caller. Without root, owners inside the container are given in its user namespace (any id it maps); a host
    /// file can only get the caller's own ids, so copying out to the host with other owners is refused
    /// (<see cref="CopyOwnerException"/>, as is an id the container does not map); a tar stream keeps them.
    /// </summary>
    public bool KeepOwners { get; init; }
}
