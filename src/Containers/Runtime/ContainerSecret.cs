using System.Buffers;

namespace Containers.Runtime;

/// <summary>
/// A file handed to a container at <c>/run/secrets/NAME</c>: on a tmpfs of its own (read-only, so it never reaches
/// the container's writable layer or a commit), mode 0400, owned by the container's user. Its content is read when
/// the container's start plan is compiled (prepared or created) and travels only in the start plan in memory: the container's state keeps neither the
/// content nor the host path, and nothing logs it. Set it in <see cref="ContainerCreateOptions.Secrets"/>.
/// </summary>
/// <example>
/// <code>
/// var options = new ContainerCreateOptions { Secrets = [ContainerSecret.FromFile("db_password", "/etc/app/db_password")] };
/// var result = await runtime.RunFromImageAsync("app:1", new ImageContainerOptions { Create = options }, ct);
/// // inside: cat /run/secrets/db_password
/// </code>
/// </example>
public sealed class ContainerSecret
{
    /// <summary>The largest secret, as Docker's: 500 KiB.</summary>
    public const int MaxBytes = 500 * 1024;

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    private readonly byte[]? _content;

    private ContainerSecret(string name, string? sourceFile, byte[]? content)
    {
        Name = name;
        SourceFile = sourceFile;
        _content = content;
    }

    /// <summary>The file's name in <c>/run/secrets</c>.</summary>
    public string Name { get; }

    /// <summary>The host file the content is read from when the container is prepared, or null for content given in memory.</summary>
    public string? SourceFile { get; }

    /// <summary>A secret read from <paramref name="path"/> when the container's start plan is compiled (every start of a prepared container uses what was read then).</summary>
    /// <param name="name">The file's name in <c>/run/secrets</c>: letters, digits, '.', '_' and '-', not <c>.</c> or <c>..</c>.</param>
    /// <param name="path">The host file.</param>
    /// <exception cref="InvalidSecretException">The name is not valid.</exception>
    public static ContainerSecret FromFile(string name, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new ContainerSecret(ValidName(name), Path.GetFullPath(path), null);
    }

    /// <summary>A secret whose content is given in memory (copied).</summary>
    /// <param name="name">The file's name in <c>/run/secrets</c>.</param>
    /// <param name="content">The content, at most <see cref="MaxBytes"/> bytes.</param>
    /// <exception cref="InvalidSecretException">The name is not valid or the content too large.</exception>
    public static ContainerSecret FromBytes(string name, ReadOnlySpan<byte> content) =>
        content.Length > MaxBytes
            ? throw new InvalidSecretException(name, $"it is {content.Length} bytes; a secret holds at most {MaxBytes} bytes")
            : new ContainerSecret(ValidName(name), null, content.ToArray());

    /// <summary>The name only: a secret's content is never printed.</summary>
    /// <returns>The name, and the host file when there is one.</returns>
    public override string ToString() => SourceFile is null ? $"secret {Name}" : $"secret {Name} from {SourceFile}";

    /// <summary>The content: the bytes given, or the file's as it is now.</summary>
    /// <exception cref="InvalidSecretException">The file cannot be read, is not a regular file, or is too large.</exception>
    internal byte[] ReadContent()
    {
        if (_content is not null)
        {
            return _content;
        }

        try
        {
            using var file = new FileStream(SourceFile!, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (file.Length > MaxBytes)
            {
                throw new InvalidSecretException(Name, $"{SourceFile} is {file.Length} bytes; a secret holds at most {MaxBytes} bytes");
            }

            var content = new byte[file.Length];
            file.ReadExactly(content);
            return content;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw new InvalidSecretException(Name, $"{SourceFile} cannot be read ({e.Message}): give a readable regular file", e);
        }
    }

    private static string ValidName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 255 || name is "." or ".." || name.AsSpan().ContainsAnyExcept(NameCharacters))
        {
            throw new InvalidSecretException(name, "a secret's name is a file name of letters, digits, '.', '_' and '-' (not '.' or '..')");
        }

        return name;
    }
}
