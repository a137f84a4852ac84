namespace Containers.Runtime;

/// <summary>
/// An image's config (or what the caller overrides of it) cannot make a container: no command to run, a relative
/// working directory, a volume path that is not absolute or climbs with <c>..</c>, an unknown stop signal, a user
/// the image's <c>/etc/passwd</c> does not list. Nothing has been created.
/// </summary>
public sealed class InvalidImageConfigException : ContainersException
{
    /// <summary>Creates the error for the image's config field <paramref name="field"/>.</summary>
    /// <param name="field">The config field at fault, as the OCI image config names it (<c>Cmd</c>, <c>Volumes</c>).</param>
    /// <param name="message">What is wrong and what to do.</param>
    public InvalidImageConfigException(string field, string message)
        : base($"image config {field}: {message}")
    {
        Field = field;
    }

    /// <summary>The config field at fault, as the OCI image config names it (<c>Entrypoint</c>, <c>Cmd</c>, <c>Env</c>, <c>WorkingDir</c>, <c>User</c>, <c>Volumes</c>, <c>StopSignal</c>).</summary>
    public string Field { get; }
}
