namespace Containers.Images;

/// <summary>The phases of an import or export.</summary>
public enum ImageProgressPhase
{
    /// <summary>Reading an archive.</summary>
    Reading,

    /// <summary>Copying a blob into the store and checking its digest.</summary>
    Verifying,

    /// <summary>Applying a layer into its snapshot.</summary>
    Applying,

    /// <summary>Writing an export.</summary>
    Writing,

    /// <summary>Writing a container's changes as a layer; the item is the upper directory, the bytes its file content read so far (total unknown: 0).</summary>
    Committing,
}
