using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Containers.Images.Model;

namespace Containers.Images;

/// <summary>
/// A content digest, <c>algorithm:hex</c>, as the OCI image spec defines it. A <see cref="Digest"/> is always valid:
/// the algorithm is <c>sha256</c> or <c>sha512</c> and the hex part has exactly the algorithm's length in lowercase
/// hex, so it is safe to use as a file name (<c>sha256:../../x</c> is rejected, never a path).
/// </summary>
/// <example>
/// <code>
/// var digest = Digest.Parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// string blobPath = Path.Combine(root, "blobs", digest.Algorithm, digest.Hex);
/// </code>
/// </example>
[JsonConverter(typeof(DigestJsonConverter))]
public readonly record struct Digest
{
    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    /// <summary>The algorithm: <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The encoded hash: lowercase hex of the algorithm's length.</summary>
    public string Hex { get; }

    /// <summary>Parses <c>algorithm:hex</c>, throwing <see cref="FormatException"/> with the reason on bad input.</summary>
    public static Digest Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var digest, out var error) ? digest : throw new FormatException(error);
    }

    /// <summary>Parses <c>algorithm:hex</c>; returns false for anything that is not a valid digest.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest) => TryParse(value, out digest, out _);

    private static bool TryParse(string? value, out Digest digest, out string error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "a digest must not be empty: expected 'sha256:<64 hex digits>'";
            return false;
        }

        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            error = $"'{Truncate(value)}' is not a digest: expected 'sha256:<64 hex digits>'";
            return false;
        }

        string algorithm = value[..colon];
        string hex = value[(colon + 1)..];
        int length = algorithm switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (length < 0)
        {
            error = $"digest '{Truncate(value)}' uses the unsupported algorithm '{Truncate(algorithm)}': use sha256 or sha512";
            return false;
        }

        if (hex.Length != length || !hex.AsSpan().ContainsOnlyLowercaseHex())
        {
            error = $"digest '{Truncate(value)}' is malformed: {algorithm} needs exactly {length} lowercase hex digits";
            return false;
        }

        digest = new Digest(algorithm, hex);
        error = string.Empty;
        return true;
    }

    /// <summary>The sha256 digest of <paramref name="content"/>.</summary>
    public static Digest Sha256(ReadOnlySpan<byte> content) => FromSha256Hash(SHA256.HashData(content));

    /// <summary>The digest of a finished sha256 hash (32 bytes).</summary>
    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("a sha256 hash has 32 bytes", nameof(hash));
        }

        return new Digest("sha256", Convert.ToHexStringLower(hash));
    }

    /// <inheritdoc />
    public override string ToString() => Algorithm is null ? string.Empty : $"{Algorithm}:{Hex}";

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}

internal static class HexSpanExtensions
{
    public static bool ContainsOnlyLowercaseHex(this ReadOnlySpan<char> span)
    {
        foreach (char c in span)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
