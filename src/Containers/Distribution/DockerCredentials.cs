using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Containers.Distribution;

/// <summary>
/// Credentials in Docker's client config (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>):
/// <c>credHelpers</c> per registry, then the <c>credsStore</c> helper, then <c>auths</c> entries (base64
/// <c>user:password</c>). Helpers are the <c>docker-credential-NAME</c> programs on PATH, spoken to as Docker does
/// (<c>get</c>/<c>store</c>/<c>erase</c> over stdin/stdout). <see cref="SaveAsync"/> and <see cref="RemoveAsync"/>
/// write the file in Docker's format, mode 0600, keeping every field they do not own.
/// </summary>
/// <example>
/// <code>
/// var docker = new DockerCredentials();
/// await docker.SaveAsync("localhost:5000", new RegistryCredentials("me", "secret"), ct);
/// RegistryCredentials? found = await docker.GetAsync("localhost:5000", ct);
/// </code>
/// </example>
/// <param name="configPath">The config file; null for Docker's default location.</param>
public sealed class DockerCredentials(string? configPath = null) : IRegistryCredentialProvider
{
    /// <summary>The key Docker uses for Docker Hub in <c>auths</c> and with helpers.</summary>
    public const string DockerHubKey = "https://index.docker.io/v1/";

    private const int MaxConfigSize = 4 << 20;

    /// <summary>The provider for Docker's default config file.</summary>
    public static DockerCredentials Default { get; } = new();

    /// <summary>The config file this provider reads and writes.</summary>
    public string ConfigPath { get; } = configPath ?? DefaultPath;

    /// <summary><c>$DOCKER_CONFIG/config.json</c>, else <c>$HOME/.docker/config.json</c>.</summary>
    public static string DefaultPath =>
        Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } dir
            ? Path.Combine(dir, "config.json")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker", "config.json");

    /// <inheritdoc />
    public async ValueTask<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        var config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        string key = KeyOf(registry);
        if (HelperFor(config, key) is { } helper)
        {
            return await HelperGetAsync(helper, key, cancellationToken).ConfigureAwait(false);
        }

        if (config["auths"] is JsonObject auths)
        {
            foreach (var candidate in new[] { key, registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/", "https://" + registry + "/v2/" })
            {
                if (auths[candidate] is not JsonObject entry)
                {
                    continue;
                }

                var basic = entry["auth"] is JsonValue auth && auth.TryGetValue(out string? encoded) && encoded.Length > 0 ? Decode(encoded, candidate) : null;
                if (entry["identitytoken"] is JsonValue identity && identity.TryGetValue(out string? token) && token.Length > 0)
                {
                    return RegistryCredentials.FromIdentityToken(token, basic?.Username);
                }

                if (basic is not null)
                {
                    return basic;
                }
            }
        }

        return null;
    }

    /// <summary>Stores credentials for <paramref name="registry"/>: through the helper if one is configured, else in <c>auths</c>.</summary>
    /// <param name="registry">The registry (<c>host[:port]</c>, <c>docker.io</c>).</param>
    /// <param name="credentials">The credentials.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task SaveAsync(string registry, RegistryCredentials credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        string key = KeyOf(registry);
        if (HelperFor(config, key) is { } helper)
        {
            string input = new JsonObject { ["ServerURL"] = key, ["Username"] = credentials.Username, ["Secret"] = credentials.Password }.ToJsonString();
            await RunHelperAsync(helper, "store", input, cancellationToken).ConfigureAwait(false);
            return;
        }

        var auths = config["auths"] as JsonObject ?? new JsonObject();
        config["auths"] = auths;
        auths[key] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")) };
        await WriteAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes the credentials of <paramref name="registry"/>; returns false when there were none.</summary>
    /// <param name="registry">The registry (<c>host[:port]</c>, <c>docker.io</c>).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task<bool> RemoveAsync(string registry, CancellationToken cancellationToken)
    {
        var config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        string key = KeyOf(registry);
        bool removed = false;
        if (HelperFor(config, key) is { } helper)
        {
            removed = await RunHelperAsync(helper, "erase", key, cancellationToken).ConfigureAwait(false) is not null;
        }

        if (config["auths"] is JsonObject auths && auths.Remove(key))
        {
            await WriteAsync(config, cancellationToken).ConfigureAwait(false);
            removed = true;
        }

        return removed;
    }

    /// <summary>The key Docker files a registry's credentials under.</summary>
    public static string KeyOf(string registry) => registry is "docker.io" or "index.docker.io" or "registry-1.docker.io" ? DockerHubKey : registry;

    private static string? HelperFor(JsonObject config, string key)
    {
        if (config["credHelpers"] is JsonObject helpers && helpers[key] is JsonValue perRegistry && perRegistry.TryGetValue(out string? name) && name.Length > 0)
        {
            return name;
        }

        return config["credsStore"] is JsonValue store && store.TryGetValue(out string? global) && global.Length > 0 ? global : null;
    }

    private static RegistryCredentials Decode(string encoded, string key)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException e)
        {
            throw new RegistryException($"the Docker config entry for {key} is not valid base64; log in again", e);
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0
            ? throw new RegistryException($"the Docker config entry for {key} is not 'user:password'; log in again")
            : new RegistryCredentials(text[..colon], text[(colon + 1)..]);
    }

    private static async Task<RegistryCredentials?> HelperGetAsync(string helper, string key, CancellationToken cancellationToken)
    {
        string? output = await RunHelperAsync(helper, "get", key, cancellationToken).ConfigureAwait(false);
        if (output is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(output);
            var root = document.RootElement;
            string? user = root.TryGetProperty("Username", out var u) ? u.GetString() : null;
            string? secret = root.TryGetProperty("Secret", out var s) ? s.GetString() : null;
            if (string.IsNullOrEmpty(secret))
            {
                return null;
            }

            // Docker helpers return "<token>" as the user name for identity tokens (OAuth2 refresh tokens).
            return user == "<token>" ? RegistryCredentials.FromIdentityToken(secret) : new RegistryCredentials(user ?? string.Empty, secret);
        }
        catch (JsonException e)
        {
            throw new RegistryException($"docker-credential-{helper} answered with invalid JSON for {key}", e);
        }
    }

    /// <summary>Runs <c>docker-credential-HELPER ACTION</c>; returns stdout, or null when it says the credentials are not found.</summary>
    private static async Task<string?> RunHelperAsync(string helper, string action, string input, CancellationToken cancellationToken)
    {
        if (helper.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))
        {
            throw new RegistryException($"the credential helper name '{helper}' is not valid");
        }

        var start = new ProcessStartInfo($"docker-credential-{helper}", action)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new RegistryException($"could not start docker-credential-{helper}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RegistryException($"the credential helper docker-credential-{helper} is configured in the Docker config but is not on PATH", e);
        }

        using (process)
        {
            try
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
                process.StandardInput.Close();
                var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
                var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                string output = await stdout.ConfigureAwait(false);
                string error = (await stderr.ConfigureAwait(false)).Trim();
                if (process.ExitCode == 0)
                {
                    return output;
                }

                if ((output + error).Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                throw new RegistryException($"docker-credential-{helper} {action} failed (exit {process.ExitCode}): {(error.Length > 0 ? error : output.Trim())}");
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw;
            }
        }
    }

    private async Task<JsonObject> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(ConfigPath))
        {
            return [];
        }

        var info = new FileInfo(ConfigPath);
        if (info.Length > MaxConfigSize)
        {
            throw new RegistryException($"{ConfigPath} is larger than {MaxConfigSize} bytes; it is not a Docker config");
        }

        byte[] content = await File.ReadAllBytesAsync(ConfigPath, cancellationToken).ConfigureAwait(false);
        try
        {
            return content.Length == 0 ? [] : JsonNode.Parse(content) as JsonObject ?? throw new RegistryException($"{ConfigPath} is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{ConfigPath} is not valid JSON: {e.Message}; fix or remove it", e);
        }
    }

    private async Task WriteAsync(JsonObject config, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("writing the Docker config needs Linux");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(ConfigPath))!;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            config.WriteTo(writer);
        }

        byte[] content = buffer.ToArray();
        // Created 0600 from the start (not chmod'ed after), then renamed over the old file: the secret is never readable
        // by others, and readers see the old or the new file whole.
        string temporary = Path.Combine(directory, $".{Path.GetFileName(ConfigPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            var stream = new FileStream(temporary, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, ConfigPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
