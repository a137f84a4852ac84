namespace Containers.Images;

/// <summary>How a path of a container's root differs from its image, as <c>docker diff</c> marks it.</summary>
public enum FileChangeKind
{
    /// <summary><c>A</c>: the path is new.</summary>
    Added,

    /// <summary><c>C</c>: the path existed in the image and was changed (for a directory: something inside it changed).</summary>
    Changed,

    /// <summary><c>D</c>: the path existed in the image and was deleted.</summary>
    Deleted,
}
