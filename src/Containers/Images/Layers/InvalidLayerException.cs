namespace Containers.Images.Layers;

/// <summary>
/// A layer that cannot be applied safely: a malformed or truncated tar stream, an entry that would escape the
/// snapshot or that the store refuses (for example a <c>..</c> name or a tar-supplied <c>trusted.overlay.*</c>
/// xattr), a size quota exceeded, or a diff id that does not match the content. Nothing from the layer is visible
/// when this is thrown.
/// </summary>
public sealed class InvalidLayerException : ContainersException
{
    /// <summary>Creates the error for <paramref name="entryName"/> (null when it concerns the whole layer).</summary>
    public InvalidLayerException(string? entryName, string reason)
        : base(Printable.Escape(entryName is null ? $"invalid layer: {reason}" : $"invalid layer entry '{entryName}': {reason}"))
    {
        EntryName = entryName;
        Reason = reason;
    }

    /// <summary>Creates the error with the error that caused it (for example a corrupt compressed stream).</summary>
    public InvalidLayerException(string? entryName, string reason, Exception? innerException)
        : base(Printable.Escape(entryName is null ? $"invalid layer: {reason}" : $"invalid layer entry '{entryName}': {reason}"), innerException)
    {
        EntryName = entryName;
        Reason = reason;
    }

    /// <summary>The tar entry name as the layer spells it, or null when the error concerns the whole layer.</summary>
    public string? EntryName { get; }

    /// <summary>What is wrong, without the entry name.</summary>
    public string Reason { get; }
}
