using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Images.Model;

namespace Containers.Images;

/// <summary>What <see cref="Image.ToJson"/> writes: the image's identity and names, then its config and manifest as stored.</summary>
internal sealed record ImageInspectDocument(
    Digest Digest,
    IReadOnlyList<string> References,
    DateTimeOffset? Created,
    string Platform,
    long Size,
    ImageConfig Config,
    ImageManifest Manifest)
{
    public static string ToJson(Image image) => JsonSerializer.Serialize(
        new ImageInspectDocument(
            image.Digest,
            image.References.Select(r => r.ToString()).ToList(),
            image.Config.Created,
            image.Config.Platform.ToString(),
            image.Size,
            image.Config,
            image.Manifest),
        ImageInspectJsonContext.Default.ImageInspectDocument);
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ImageInspectDocument))]
internal sealed partial class ImageInspectJsonContext : JsonSerializerContext;
