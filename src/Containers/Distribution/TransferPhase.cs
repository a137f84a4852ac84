namespace Containers.Distribution;

/// <summary>What a pull or push is doing with one blob.</summary>
public enum TransferPhase
{
    /// <summary>Downloading a blob and checking its digest.</summary>
    Downloading,

    /// <summary>Applying a downloaded layer into its snapshot.</summary>
    Applying,

    /// <summary>Uploading a blob.</summary>
    Uploading,

    /// <summary>The blob was already there (in the store for a pull; in the registry, or mounted from another repository, for a push).</summary>
    Exists,
}
