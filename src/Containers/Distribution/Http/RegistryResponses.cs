using System.Net;
using System.Text.Json;

namespace Containers.Distribution.Http;

/// <summary>Turns failed responses into typed errors carrying the registry's <c>errors[]</c>, and reads bodies with a size bound.</summary>
internal static class RegistryResponses
{
    private const int MaxErrorBody = 64 * 1024;

    /// <summary>Throws a typed error unless the response has a 2xx status.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        throw await ErrorAsync(response, what, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<RegistryException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var errors = await ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
        string detail = errors.Count > 0 ? string.Join("; ", errors) : response.ReasonPhrase ?? string.Empty;
        string registry = response.RequestMessage?.RequestUri is { } uri ? RegistryHosts.Authority(uri) : "the registry";
        int code = (int)response.StatusCode;
        string? sent = response.RequestMessage?.Headers.Authorization?.Scheme;
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when sent is not null => new RegistryAuthenticationException(
                $"{what}: {registry} rejected the credentials ({code} {detail}); check the user name and password, then log in again with 'containers login {registry}'",
                response.StatusCode,
                errors),
            HttpStatusCode.Unauthorized => new RegistryAuthenticationException(
                $"{what}: {registry} needs authentication ({code} {detail}); log in with 'containers login {registry}'",
                response.StatusCode,
                errors),
            HttpStatusCode.Forbidden => new RegistryAuthenticationException(
                $"{what}: {registry} denied access ({code} {detail}); the account lacks permission for this repository",
                response.StatusCode,
                errors),
            HttpStatusCode.NotFound => new RegistryNotFoundException($"{what}: not found on {registry} ({detail})", errors),
            _ => new RegistryException($"{what}: {registry} answered {code} {detail}", response.StatusCode, errors),
        };
    }

    /// <summary>Reads a body of at most <paramref name="limit"/> bytes; a longer one is an error before it is all read.</summary>
    public static async Task<byte[]> ReadBoundedAsync(HttpContent content, long limit, string what, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } length && length > limit)
        {
            throw new RegistryException($"{what}: the registry sent {length} bytes, more than the {limit} allowed");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            while (true)
            {
                int read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.ToArray();
                }

                if (buffer.Length + read > limit)
                {
                    throw new RegistryException($"{what}: the registry sent more than the {limit} bytes allowed");
                }

                buffer.Write(chunk, 0, read);
            }
        }
    }

    private static async Task<IReadOnlyList<RegistryError>> ReadErrorsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            byte[] body = await ReadBoundedAsync(response.Content, MaxErrorBody, "error body", cancellationToken).ConfigureAwait(false);
            if (body.Length == 0)
            {
                return [];
            }

            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("errors", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            var errors = new List<RegistryError>();
            foreach (var error in array.EnumerateArray().Take(16))
            {
                if (error.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                string code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "UNKNOWN";
                string? message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                errors.Add(new RegistryError(Clip(code), message is null ? null : Clip(message)));
            }

            return errors;
        }
        catch (Exception e) when (e is JsonException or RegistryException or IOException or HttpRequestException)
        {
            return [];
        }
    }

    /// <summary>Keeps a hostile registry from putting pages of text (or control characters) into our messages.</summary>
    private static string Clip(string text)
    {
        var cleaned = new string(text.Where(ch => !char.IsControl(ch)).Take(300).ToArray());
        return cleaned;
    }
}
