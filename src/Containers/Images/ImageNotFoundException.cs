namespace Containers.Images;

/// <summary>No image in the store matches a reference or digest. List the store's images to see what exists.</summary>
public sealed class ImageNotFoundException : ContainersException
{
    /// <summary>Creates an error for the reference or digest that matched nothing.</summary>
    public ImageNotFoundException(string reference)
        : base($"image '{Printable.Escape(reference)}' not found in the store: list images with 'containers images', or pull or import it first")
    {
        Reference = reference;
    }

    /// <summary>The reference or digest that matched nothing.</summary>
    public string Reference { get; }
}
