using System.Text.Json;

namespace Containers.Images.Model;

/// <summary>
/// Reads image documents strictly: bounded in size, well-formed, unambiguous (an index is never also a manifest) and
/// consistent with the media type that pointed to them. Every failure is an <see cref="InvalidImageException"/>.
/// </summary>
internal static class ImageDocuments
{
    /// <summary>The largest index, manifest or config this library reads (4 MiB, as registries enforce).</summary>
    public const int MaxDocumentSize = 4 * 1024 * 1024;

    /// <summary>Which kind of document a JSON blob is: an index, a manifest, or neither.</summary>
    /// <param name="content">The document.</param>
    /// <param name="what">Where the document came from, for error messages.</param>
    /// <returns>The media type the document declares or implies.</returns>
    public static string DetectKind(ReadOnlySpan<byte> content, string what)
    {
        return ClassifyDocument(content, declaredBy: null, what);
    }

    /// <summary>Reads an image index or Docker manifest list.</summary>
    /// <param name="content">The JSON document.</param>
    /// <param name="declaredMediaType">The media type the descriptor pointing here gave, if any.</param>
    /// <param name="what">Where the document came from, for error messages.</param>
    public static ImageIndex ReadIndex(ReadOnlySpan<byte> content, string? declaredMediaType, string what)
    {
        string kind = ClassifyDocument(content, declaredMediaType, what);
        if (!MediaTypes.IsIndex(kind))
        {
            throw new InvalidImageException($"{what}: expected an image index but the document is {Describe(kind)}");
        }

        var index = Deserialize(content, ImageJsonContext.Default.ImageIndex, what);
        CheckSchemaVersion(index.SchemaVersion, what);
        return index;
    }

    /// <summary>Reads an OCI or Docker schema2 image manifest.</summary>
    /// <param name="content">The JSON document.</param>
    /// <param name="declaredMediaType">The media type the descriptor pointing here gave, if any.</param>
    /// <param name="what">Where the document came from, for error messages.</param>
    public static ImageManifest ReadManifest(ReadOnlySpan<byte> content, string? declaredMediaType, string what)
    {
        string kind = ClassifyDocument(content, declaredMediaType, what);
        if (!MediaTypes.IsManifest(kind))
        {
            throw new InvalidImageException($"{what}: expected an image manifest but the document is {Describe(kind)}");
        }

        var manifest = Deserialize(content, ImageJsonContext.Default.ImageManifest, what);
        CheckSchemaVersion(manifest.SchemaVersion, what);
        if (!MediaTypes.IsConfig(manifest.Config.MediaType))
        {
            throw new InvalidImageException($"{what}: the config has media type '{manifest.Config.MediaType}', which is not an image config (this is not a container image)");
        }

        foreach (var layer in manifest.Layers)
        {
            if (MediaTypes.LayerCompressionOf(layer.MediaType) is null)
            {
                throw new InvalidImageException($"{what}: layer {layer.Digest} has the unsupported media type '{layer.MediaType}'");
            }
        }

        return manifest;
    }

    /// <summary>Reads an image config and checks it has a diff id per layer of <paramref name="manifest"/>.</summary>
    /// <param name="content">The JSON document.</param>
    /// <param name="manifest">The manifest that names this config, or null to skip the layer count check.</param>
    /// <param name="what">Where the document came from, for error messages.</param>
    public static ImageConfig ReadConfig(ReadOnlySpan<byte> content, ImageManifest? manifest, string what)
    {
        using (ParseDocument(content, what))
        {
        }

        var config = Deserialize(content, ImageJsonContext.Default.ImageConfig, what);
        if (config.RootFS.Type != "layers")
        {
            throw new InvalidImageException($"{what}: rootfs.type is '{config.RootFS.Type}', expected 'layers'");
        }

        if (manifest is not null && manifest.Layers.Count != config.RootFS.DiffIds.Count)
        {
            throw new InvalidImageException($"{what}: the manifest has {manifest.Layers.Count} layers but the config lists {config.RootFS.DiffIds.Count} diff ids");
        }

        return config;
    }

    /// <summary>Checks that a document fits the size bound before anyone reads it.</summary>
    internal static void CheckSize(long size, string what)
    {
        if (size > MaxDocumentSize)
        {
            throw new InvalidImageException($"{what}: the document is {size} bytes, more than the {MaxDocumentSize} bytes an image document may have");
        }
    }

    /// <summary>
    /// Writes a document as compact JSON without escaping '+' and other HTML-sensitive characters, the way other image
    /// tools write them (<c>application/vnd.oci.image.manifest.v1+json</c>, not <c>…v1\u002Bjson</c>).
    /// </summary>
    internal static byte[] Serialize<T>(T value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)WritingContext.GetTypeInfo(typeof(T))!);

    private static readonly ImageJsonContext WritingContext = new(new JsonSerializerOptions(ImageJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>
    /// Deserializes a document. A <c>null</c> where the model has no null (a required field, an array element, an
    /// annotation value) is refused here, so no reader further on meets one.
    /// </summary>
    internal static T Deserialize<T>(ReadOnlySpan<byte> content, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string what)
    {
        CheckSize(content.Length, what);
        RejectNullArrayElements(content, what);
        T value;
        try
        {
            value = JsonSerializer.Deserialize(content, typeInfo) ?? throw new InvalidImageException($"{what}: the document is null");
        }
        catch (JsonException e)
        {
            throw new InvalidImageException($"{what}: {e.Message}", e);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new InvalidImageException($"{what}: the document cannot be read: {e.Message}", e);
        }

        RejectNullValues(value, what);
        return value;
    }

    /// <summary>No image document has an array that may hold <c>null</c> (<c>"manifests": [null]</c>, <c>"Layers": [null]</c>).</summary>
    private static void RejectNullArrayElements(ReadOnlySpan<byte> content, string what)
    {
        var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = 64 });
        var inArray = new Stack<bool>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartArray:
                        inArray.Push(true);
                        break;
                    case JsonTokenType.StartObject:
                        inArray.Push(false);
                        break;
                    case JsonTokenType.EndArray or JsonTokenType.EndObject:
                        inArray.Pop();
                        break;
                    case JsonTokenType.Null when inArray.Count > 0 && inArray.Peek():
                        throw new InvalidImageException($"{what}: an array holds null at byte {reader.TokenStartIndex}; image documents have no null list entries");
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidImageException($"{what}: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>String maps (annotations, labels) and the lists nested in a config must not hold null values.</summary>
    private static void RejectNullValues<T>(T value, string what)
    {
        switch (value)
        {
            case ImageIndex index:
                CheckMap(index.Annotations, "annotations", what);
                foreach (var entry in index.Manifests)
                {
                    CheckDescriptor(entry, "manifests[]", what);
                }

                break;
            case ImageManifest manifest:
                CheckMap(manifest.Annotations, "annotations", what);
                CheckDescriptor(manifest.Config, "config", what);
                foreach (var layer in manifest.Layers)
                {
                    CheckDescriptor(layer, "layers[]", what);
                }

                break;
            case Descriptor descriptor:
                CheckDescriptor(descriptor, "descriptor", what);
                break;
            case IndexHeader header:
                CheckMap(header.Annotations, "annotations", what);
                break;
            case ImageConfig config:
                CheckMap(config.Config?.Labels, "config.Labels", what);
                break;
        }
    }

    private static void CheckDescriptor(Descriptor descriptor, string field, string what) =>
        CheckMap(descriptor.Annotations, field + ".annotations", what);

    private static void CheckMap(IReadOnlyDictionary<string, string>? map, string field, string what)
    {
        if (map is not null && map.Values.Any(v => v is null))
        {
            throw new InvalidImageException($"{what}: {field} has a null value; values must be strings");
        }
    }

    private static JsonDocument ParseDocument(ReadOnlySpan<byte> content, string what)
    {
        CheckSize(content.Length, what);
        try
        {
            var document = JsonDocument.Parse(content.ToArray(), new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new InvalidImageException($"{what}: an image document must be a JSON object");
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new InvalidImageException($"{what}: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses and classifies a document; a string that is not valid UTF-8 is refused like any other bad JSON.</summary>
    private static string ClassifyDocument(ReadOnlySpan<byte> content, string? declaredBy, string what)
    {
        using var document = ParseDocument(content, what);
        try
        {
            return Classify(document.RootElement, declaredBy, what);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidImageException($"{what}: not valid JSON: {e.Message}", e);
        }
    }

    private static string Classify(JsonElement root, string? declaredBy, string what)
    {
        bool hasManifests = root.TryGetProperty("manifests", out _);
        bool hasManifestFields = root.TryGetProperty("config", out _) || root.TryGetProperty("layers", out _);
        if (hasManifests && hasManifestFields)
        {
            throw new InvalidImageException($"{what}: the document has both index fields ('manifests') and manifest fields ('config'/'layers'); it is ambiguous and rejected");
        }

        string? declared = root.TryGetProperty("mediaType", out var mediaType) && mediaType.ValueKind == JsonValueKind.String ? mediaType.GetString() : null;
        if (declared is not null && declaredBy is not null && declared != declaredBy)
        {
            throw new InvalidImageException($"{what}: the descriptor says '{declaredBy}' but the document says '{declared}'");
        }

        declared ??= declaredBy;
        if (MediaTypes.IsIndex(declared) && hasManifestFields)
        {
            throw new InvalidImageException($"{what}: the media type '{declared}' names an index but the document has manifest fields");
        }

        if (MediaTypes.IsManifest(declared) && hasManifests)
        {
            throw new InvalidImageException($"{what}: the media type '{declared}' names a manifest but the document has index fields");
        }

        if (declared is not null && !MediaTypes.IsIndex(declared) && !MediaTypes.IsManifest(declared))
        {
            throw new InvalidImageException($"{what}: unsupported document media type '{declared}'");
        }

        return declared ?? (hasManifests ? MediaTypes.OciIndex : hasManifestFields ? MediaTypes.OciManifest : "unknown");
    }

    private static void CheckSchemaVersion(int version, string what)
    {
        if (version != 2)
        {
            throw new InvalidImageException($"{what}: schemaVersion is {version}; only schema version 2 is supported (Docker schema1 images must be converted)");
        }
    }

    private static string Describe(string kind) =>
        MediaTypes.IsIndex(kind) ? "an index" : MediaTypes.IsManifest(kind) ? "a manifest" : "neither an index nor a manifest";
}
