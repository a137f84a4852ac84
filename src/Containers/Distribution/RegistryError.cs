namespace Containers.Distribution;

/// <summary>
/// One entry of the <c>errors</c> array a registry returns with a failed request (distribution spec, "Error Codes"):
/// <c>MANIFEST_UNKNOWN</c>, <c>BLOB_UNKNOWN</c>, <c>UNAUTHORIZED</c>, <c>DENIED</c>, <c>TOOMANYREQUESTS</c>, …
/// </summary>
/// <param name="Code">The error code, as the registry sent it.</param>
/// <param name="Message">The registry's message.</param>
public sealed record RegistryError(string Code, string? Message)
{
    /// <inheritdoc />
    public override string ToString() => string.IsNullOrEmpty(Message) ? Code : $"{Code}: {Message}";
}
