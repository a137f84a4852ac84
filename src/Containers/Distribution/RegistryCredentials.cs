namespace Containers.Distribution;

/// <summary>A user name and password (or access token used as a password) for one registry.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password or token.</param>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>Never prints the password.</summary>
    /// <returns>The user name only.</returns>
    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}
