using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Containers.Images.Model;

/// <summary>
/// A normalised image reference, <c>registry[:port]/repository[:tag][@digest]</c>, following the grammar of the
/// distribution project's reference package and Docker's normalisation: a name without a registry is on
/// <c>docker.io</c>, a single-component name there is under <c>library/</c>, and a name with neither tag nor digest
/// gets the tag <c>latest</c>.
/// </summary>
/// <example>
/// <code>
/// var reference = ImageReference.Parse("busybox");
/// // reference.ToString() == "docker.io/library/busybox:latest", reference.FamiliarName == "busybox:latest"
/// var local = ImageReference.Parse("localhost:5000/team/app:1.2@sha256:...");
/// </code>
/// </example>
public sealed partial record ImageReference
{
    /// <summary>The registry Docker Hub images live on.</summary>
    public const string DefaultRegistry = "docker.io";

    /// <summary>The tag a reference without tag or digest gets.</summary>
    public const string DefaultTag = "latest";

    private const int MaxNameLength = 255;

    private ImageReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host, with its port when it has one (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
    public string Registry { get; }

    /// <summary>The repository path within the registry (<c>library/busybox</c>).</summary>
    public string Repository { get; }

    /// <summary>The tag, or null for a reference by digest only.</summary>
    public string? Tag { get; }

    /// <summary>The digest the reference pins, if any.</summary>
    public Digest? Digest { get; }

    /// <summary>The full name: <c>registry/repository</c>.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The short form Docker prints: without <c>docker.io/</c> and <c>library/</c>.</summary>
    public string FamiliarName
    {
        get
        {
            string name = Registry == DefaultRegistry
                ? Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0 ? Repository[8..] : Repository
                : Name;
            return name + Suffix;
        }
    }

    private string Suffix => (Tag is null ? string.Empty : ":" + Tag) + (Digest is { } d ? "@" + d : string.Empty);

    /// <summary>Parses and normalises a reference.</summary>
    /// <exception cref="InvalidReferenceException">The text is not a valid reference; the message says why.</exception>
    public static ImageReference Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return TryParse(reference, out var result, out string? error) ? result : throw new InvalidReferenceException(reference, error);
    }

    /// <summary>Parses and normalises a reference; returns false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? reference, [NotNullWhen(true)] out ImageReference? result) =>
        TryParse(reference, out result, out _);

    /// <summary>This reference with <paramref name="tag"/> instead of its tag and without a digest.</summary>
    public ImageReference WithTag(string tag)
    {
        if (!TagPattern().IsMatch(tag))
        {
            throw new InvalidReferenceException(tag, "a tag is 1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'");
        }

        return new ImageReference(Registry, Repository, tag, null);
    }

    /// <inheritdoc />
    public override string ToString() => Name + Suffix;

    private static bool TryParse(string? reference, [NotNullWhen(true)] out ImageReference? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrEmpty(reference))
        {
            error = "a reference must not be empty";
            return false;
        }

        string rest = reference;
        Digest? digest = null;
        int at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!Images.Digest.TryParse(rest[(at + 1)..], out var parsed))
            {
                error = "the part after '@' is not a valid digest (expected sha256:<64 lowercase hex digits>)";
                return false;
            }

            digest = parsed;
            rest = rest[..at];
        }

        string? tag = null;
        int lastColon = rest.LastIndexOf(':');
        if (lastColon >= 0 && rest.IndexOf('/', lastColon) < 0)
        {
            tag = rest[(lastColon + 1)..];
            rest = rest[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"'{tag}' is not a valid tag: 1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'";
                return false;
            }
        }

        if (rest.Length == 0)
        {
            error = "the name is empty";
            return false;
        }

        if (AnchoredHex64().IsMatch(rest))
        {
            error = "a 64-digit hexadecimal name is ambiguous with an image id; use sha256:<hex> to refer to an image by digest";
            return false;
        }

        string registry;
        string repository;
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string first = slash < 0 ? string.Empty : rest[..slash];
        if (slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsAsciiLetterUpper)))
        {
            registry = first;
            repository = rest[(slash + 1)..];
            if (!DomainPattern().IsMatch(registry))
            {
                error = $"'{registry}' is not a valid registry host[:port]";
                return false;
            }
        }
        else
        {
            registry = DefaultRegistry;
            repository = rest;
        }

        if (registry == "index.docker.io")
        {
            registry = DefaultRegistry;
        }

        if (registry == DefaultRegistry && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Any(char.IsAsciiLetterUpper))
        {
            error = "repository names must be lowercase";
            return false;
        }

        if (!PathPattern().IsMatch(repository))
        {
            error = $"'{repository}' is not a valid repository path: components of lowercase letters and digits separated by '.', '_', '__' or dashes, joined by '/'";
            return false;
        }

        if (registry.Length + 1 + repository.Length > MaxNameLength)
        {
            error = $"the name is longer than {MaxNameLength} characters";
            return false;
        }

        if (tag is null && digest is null)
        {
            tag = DefaultTag;
        }

        result = new ImageReference(registry, repository, tag, digest);
        error = null;
        return true;
    }

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex AnchoredHex64();

    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();
}
