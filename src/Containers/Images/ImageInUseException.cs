namespace Containers.Images;

/// <summary>
/// An image would leave the store while containers use it. Delete those containers first, or untag the image only
/// (<see cref="ImageStore.RemoveAsync(string, bool, CancellationToken)"/> with <c>force</c>, the CLI's <c>rmi -f</c>).
/// </summary>
public sealed class ImageInUseException : ContainersException
{
    /// <summary>Creates the error for <paramref name="reference"/>, used by the containers whose directories are <paramref name="holders"/>.</summary>
    /// <param name="reference">The reference given for removal.</param>
    /// <param name="image">The image's manifest digest.</param>
    /// <param name="holders">The directories of the containers that use it.</param>
    public ImageInUseException(string reference, Digest image, IReadOnlyList<string> holders)
        : base($"image '{Printable.Escape(reference)}' is in use by {holders.Count} container(s) ({string.Join(", ", holders.Select(Path.GetFileName))}): " +
               "delete them first, or untag it only ('rmi -f', RemoveAsync with force)")
    {
        Reference = reference;
        Image = image;
        Holders = holders;
    }

    /// <summary>The reference given for removal.</summary>
    public string Reference { get; }

    /// <summary>The image's manifest digest.</summary>
    public Digest Image { get; }

    /// <summary>The own directories of the containers that use the image.</summary>
    public IReadOnlyList<string> Holders { get; }
}
