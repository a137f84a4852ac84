using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Containers.Spec;

public sealed partial record ContainerSpec
{
    /// <summary>
    /// Reads a spec from <c>config.json</c> text. Fields the OCI runtime spec does not define are ignored, as it
    /// requires; parsing does not validate, so call <see cref="Validate"/> or <see cref="ThrowIfInvalid"/> next (it
    /// also refuses the defined fields this runtime does not apply yet).
    /// </summary>
    /// <exception cref="InvalidSpecException">The text is not JSON, or a field has the wrong type or an unknown
    /// value (such as a namespace type); the error names the field's JSON path.</exception>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.FromJson(File.ReadAllText("bundle/config.json"));
    /// spec.ThrowIfInvalid();
    /// </code>
    /// </example>
    public static ContainerSpec FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize(json, SpecJsonContext.Spec) ?? throw NullDocument();
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }
    }

    /// <summary>Reads a spec from a stream of <c>config.json</c> (UTF-8), as <see cref="FromJson(string)"/> does.</summary>
    /// <exception cref="InvalidSpecException">The content is not a well-typed spec; the error names the JSON path.</exception>
    public static ContainerSpec FromJson(Stream utf8Json)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        try
        {
            return JsonSerializer.Deserialize(utf8Json, SpecJsonContext.Spec) ?? throw NullDocument();
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }
    }

    /// <summary>Reads <c>config.json</c> from <paramref name="path"/>, as <see cref="FromJson(string)"/> does.</summary>
    /// <exception cref="InvalidSpecException">The file is not a well-typed spec; the error names the JSON path.</exception>
    /// <exception cref="ContainersIOException">The file cannot be read (missing, permission denied); the error names it.</exception>
    /// <example>
    /// <code>
    /// var spec = await ContainerSpec.LoadAsync("bundle/config.json", cancellationToken);
    /// </code>
    /// </example>
    public static async Task<ContainerSpec> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(stream, SpecJsonContext.Spec, cancellationToken).ConfigureAwait(false)
                    ?? throw NullDocument();
            }
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, "reading the spec", path);
        }
    }

    /// <summary>The spec as indented <c>config.json</c> text, leaving out null fields and empty lists.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, SpecJsonContext.Spec);

    /// <summary>The spec as compact UTF-8 JSON for the state directory's <c>config.json</c> (read back by <see cref="LoadAsync"/>).</summary>
    internal byte[] ToJsonBytes()
    {
        // The source generator's serialization code, called directly (SpecJsonContext.WriteFast): configuring the
        // serializer's metadata for the whole spec first (every property of about 40 types, as ToJson does) cost a
        // run of the command line more CPU than the rest of its container's creation, and even the one JsonTypeInfo
        // of the spec starts the reflection stack of a native binary. The result is compact and keeps empty lists;
        // every reader of config.json takes it.
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer, JsonEscaping.WriterOptions))
        {
            SpecJsonContext.WriteFast(json, this);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes the spec as <c>config.json</c> to <paramref name="path"/> atomically: into a temporary file in the same
    /// directory, flushed to disk, then renamed over the target, so readers see the old or the new content, never a
    /// partial file.
    /// </summary>
    /// <example>
    /// <code>
    /// await ContainerSpec.For("/bin/true").SaveAsync("bundle/config.json", cancellationToken);
    /// </code>
    /// </example>
    /// <exception cref="ContainersIOException">The file cannot be written (no such directory, permission denied, disk full).</exception>
    public async Task SaveAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = System.IO.Path.GetFullPath(path);
        string temporary = System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(target) ?? "/", $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            // Owner-only: a spec holds the environment, which often carries secrets. CreateNew is O_EXCL.
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("containers run on Linux only");
            }

            var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 1,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, this, SpecJsonContext.Spec, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception e)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            if (ContainersIOException.IsIO(e))
            {
                throw ContainersIOException.From(e, "writing the spec", target);
            }

            throw;
        }
    }

    internal static InvalidSpecException NullDocument() =>
        new([new SpecError("$", "must be a JSON object with the spec's fields, got null")]);

    internal static InvalidSpecException FromJsonException(JsonException e)
    {
        string path = e.Path is null or "$" ? "$" : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path;
        string message = e.Message;
        int pathInfo = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (pathInfo >= 0)
        {
            message = message[..pathInfo];
        }

        if (e.LineNumber is { } line)
        {
            message += $" (line {line + 1}, byte {e.BytePositionInLine + 1})";
        }

        return new InvalidSpecException([new SpecError(path, message)], e);
    }
}
