namespace Containers.Runtime;

/// <summary>
/// When a container made from an image pulls that image from its registry first (Docker's <c>run --pull</c>).
/// Creating a container never pulls unless asked, as Docker's Engine API does; the command line's <c>run</c> and
/// <c>create</c> ask for <see cref="Missing"/>.
/// </summary>
public enum PullPolicy
{
    /// <summary>Use the store's image only; an image the store lacks is an <see cref="Containers.Images.ImageNotFoundException"/>.</summary>
    Never,

    /// <summary>Pull the image only when no image of the store matches the reference.</summary>
    Missing,

    /// <summary>Pull the image every time (the tag may have moved); a failed pull fails the creation.</summary>
    Always,
}
