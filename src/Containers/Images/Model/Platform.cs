using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>The platform an image runs on: operating system, CPU architecture and variant, as in GOOS/GOARCH terms.</summary>
/// <example>
/// <code>
/// var arm = Platform.Parse("linux/arm64/v8");
/// bool runsHere = Platform.Host.Matches(arm);
/// </code>
/// </example>
public sealed record Platform
{
    /// <summary>The CPU architecture (<c>amd64</c>, <c>arm64</c>, <c>arm</c>, …).</summary>
    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    /// <summary>The operating system (<c>linux</c>).</summary>
    [JsonPropertyName("os")]
    public required string OS { get; init; }

    /// <summary>The operating system version, where it matters (Windows).</summary>
    [JsonPropertyName("os.version")]
    public string? OSVersion { get; init; }

    /// <summary>Required operating system features.</summary>
    [JsonPropertyName("os.features")]
    public IReadOnlyList<string>? OSFeatures { get; init; }

    /// <summary>The CPU variant (<c>v7</c> for arm, <c>v8</c> for arm64).</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    /// <summary>The platform of the running process.</summary>
    public static Platform Host { get; } = CreateHost();

    /// <summary>Parses <c>os/arch[/variant]</c>, for example <c>linux/amd64</c> or <c>linux/arm/v7</c>.</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static Platform Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new FormatException($"'{value}' is not a platform: expected os/arch[/variant], for example linux/amd64");
        }

        return new Platform { OS = parts[0].ToLowerInvariant(), Architecture = parts[1].ToLowerInvariant(), Variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null };
    }

    /// <summary>
    /// True when an image for <paramref name="candidate"/> satisfies this platform: same OS and architecture, and the
    /// same variant when both name one (arm64 without a variant is v8).
    /// </summary>
    public bool Matches(Platform candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (!string.Equals(OS, candidate.OS, StringComparison.Ordinal) || !string.Equals(Architecture, candidate.Architecture, StringComparison.Ordinal))
        {
            return false;
        }

        string? mine = NormalVariant(Architecture, Variant);
        string? theirs = NormalVariant(candidate.Architecture, candidate.Variant);
        return mine is null || theirs is null || string.Equals(mine, theirs, StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public override string ToString() => Variant is null ? $"{OS}/{Architecture}" : $"{OS}/{Architecture}/{Variant}";

    private static string? NormalVariant(string architecture, string? variant) =>
        string.IsNullOrEmpty(variant) ? (architecture == "arm64" ? "v8" : null) : variant;

    private static Platform CreateHost()
    {
        var (architecture, variant) = RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => ("amd64", (string?)null),
            System.Runtime.InteropServices.Architecture.X86 => ("386", null),
            System.Runtime.InteropServices.Architecture.Arm64 => ("arm64", "v8"),
            System.Runtime.InteropServices.Architecture.Arm => ("arm", "v7"),
            System.Runtime.InteropServices.Architecture.S390x => ("s390x", null),
            System.Runtime.InteropServices.Architecture.Ppc64le => ("ppc64le", null),
            System.Runtime.InteropServices.Architecture.RiscV64 => ("riscv64", null),
            System.Runtime.InteropServices.Architecture.LoongArch64 => ("loong64", null),
            var other => (other.ToString().ToLowerInvariant(), null),
        };
        return new Platform { OS = "linux", Architecture = architecture, Variant = variant };
    }
}
