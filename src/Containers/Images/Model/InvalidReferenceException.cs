namespace Containers.Images.Model;

/// <summary>A string is not a valid image reference (<c>[registry[:port]/]name[:tag][@digest]</c>).</summary>
public sealed class InvalidReferenceException : ContainersException
{
    /// <summary>Creates an error for <paramref name="reference"/> saying why it is invalid.</summary>
    public InvalidReferenceException(string reference, string reason)
        : base(Printable.Escape($"invalid image reference '{reference}': {reason}"))
    {
        Reference = reference;
    }

    /// <summary>The rejected reference.</summary>
    public string Reference { get; }
}
