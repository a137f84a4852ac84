namespace Containers.Images;

/// <summary>
/// Content does not hash to the digest (or size) that a descriptor, a manifest or a file name promised: it was
/// corrupted or tampered with, and nothing of it was stored.
/// </summary>
public sealed class DigestMismatchException : InvalidImageException
{
    /// <summary>Creates an error for content named <paramref name="expected"/> that hashed to <paramref name="actual"/>.</summary>
    public DigestMismatchException(string what, Digest expected, Digest actual)
        : base($"{what}: expected digest {expected} but the content hashes to {actual}; the source is corrupt or was modified")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The digest the content should have had.</summary>
    public Digest Expected { get; }

    /// <summary>The digest the content actually has.</summary>
    public Digest Actual { get; }
}
