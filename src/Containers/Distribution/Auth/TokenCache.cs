using System.Collections.Concurrent;

namespace Containers.Distribution.Auth;

/// <summary>
/// Bearer tokens per registry, service and scope set, kept until shortly before they expire. Concurrent requests for
/// one key share one token request.
/// </summary>
internal sealed class TokenCache
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Lazy<Task<(string Token, DateTimeOffset Expires)>>> _tokens = new(StringComparer.Ordinal);

    public static string Key(string registry, string? service, IEnumerable<string> scopes) =>
        $"{registry}\n{service}\n{string.Join(' ', scopes.Order(StringComparer.Ordinal))}";

    public async Task<string> GetAsync(string key, Func<Task<(string Token, TimeSpan Lifetime)>> fetch)
    {
        while (true)
        {
            var entry = _tokens.GetOrAdd(key, _ => new Lazy<Task<(string, DateTimeOffset)>>(async () =>
            {
                var (token, lifetime) = await fetch().ConfigureAwait(false);
                return (token, DateTimeOffset.UtcNow + lifetime - Margin);
            }));
            try
            {
                var (token, expires) = await entry.Value.ConfigureAwait(false);
                if (expires > DateTimeOffset.UtcNow)
                {
                    return token;
                }
            }
            catch
            {
                _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<(string, DateTimeOffset)>>>(key, entry));
                throw;
            }

            _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<(string, DateTimeOffset)>>>(key, entry));
        }
    }

    /// <summary>Forgets a token the registry no longer accepts.</summary>
    public void Invalidate(string key) => _tokens.TryRemove(key, out _);
}
