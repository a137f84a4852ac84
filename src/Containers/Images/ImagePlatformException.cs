using Containers.Images.Model;

namespace Containers.Images;

/// <summary>
/// The stored image is for another platform than the one asked for, or than this host's. This runtime runs images
/// of the host's platform only (it does not emulate other architectures): pull the image for
/// <see cref="Platform.Host"/>, for example with <c>--platform</c>.
/// </summary>
public sealed class ImagePlatformException : ContainersException
{
    /// <summary>Creates an error for the image <paramref name="reference"/>, stored for <paramref name="actual"/> where <paramref name="wanted"/> was needed.</summary>
    public ImagePlatformException(string reference, Platform actual, Platform wanted, bool wantedIsHost)
        : base(wantedIsHost
            ? $"image '{Printable.Escape(reference)}' is for {actual}, but this host runs {wanted} and other architectures are not emulated: pull the image for {wanted} (--platform {wanted})"
            : $"image '{Printable.Escape(reference)}' is stored for {actual}, not the requested {wanted}: pull it for {wanted} (--pull missing or always)")
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(wanted);
        Reference = reference;
        Actual = actual;
        Wanted = wanted;
    }

    /// <summary>The image as it was named.</summary>
    public string Reference { get; }

    /// <summary>The platform of the stored image (its config's <c>os</c>, <c>architecture</c> and <c>variant</c>).</summary>
    public Platform Actual { get; }

    /// <summary>The platform that was requested, or the host's.</summary>
    public Platform Wanted { get; }
}
