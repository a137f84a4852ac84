namespace Containers;

/// <summary>
/// A file or folder on the host could not be read or written (permission denied, missing, disk full). The message
/// names the operation and the path and says what to do; <see cref="Exception.InnerException"/> is the original
/// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.
/// </summary>
public class ContainersIOException : ContainersException
{
    /// <summary>Creates the error for a failed host file operation.</summary>
    /// <param name="message">What failed, where, and what to do.</param>
    /// <param name="path">The file or folder, when one is known.</param>
    /// <param name="innerException">The original error.</param>
    public ContainersIOException(string message, string? path, Exception? innerException)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The file or folder the operation failed on, when known.</summary>
    public string? Path { get; }

    /// <summary>Wraps an I/O error of <paramref name="action"/>, adding the usual remedy for its kind.</summary>
    internal static ContainersIOException From(Exception error, string action, string? path = null)
    {
        var remedy = error switch
        {
            UnauthorizedAccessException => "permission denied: run as root, or point the runtime at folders this user owns (ContainerRuntimeOptions.StateDirectory, ImageStoreOptions.Root)",
            FileNotFoundException or DirectoryNotFoundException => "it does not exist (removed by another process?)",
            _ => "check the path, its permissions and the free space",
        };
        return new ContainersIOException($"{action} failed: {error.Message} ({remedy})", path, error);
    }

    /// <summary>Whether <paramref name="error"/> is an I/O error this type wraps.</summary>
    internal static bool IsIO(Exception error) => error is IOException or UnauthorizedAccessException;
}
