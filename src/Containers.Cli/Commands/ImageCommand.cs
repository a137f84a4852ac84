using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers image inspect IMAGE</c>: the image's manifest, config and names as JSON.</summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "A name, a digest or a unique digest prefix" };
        var root = ImageStoreOption.Create();
        var inspect = new Command("inspect", "Show an image's digest, names, config and manifest as JSON") { image, root };
        inspect.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var found = await store.ResolveAsync(parse.GetValue(image)!, ct).ConfigureAwait(false);
            var document = new InspectDocument(
                found.Digest,
                found.References.Select(r => r.ToString()).ToList(),
                found.Config.Created,
                found.Config.Platform.ToString(),
                found.Size,
                found.Config,
                found.Manifest);
            Console.WriteLine(JsonSerializer.Serialize(document, InspectJsonContext.Default.InspectDocument));
            return 0;
        });
        return new Command("image", "Manage images") { inspect };
    }

    internal sealed record InspectDocument(
        Digest Digest,
        IReadOnlyList<string> References,
        DateTimeOffset? Created,
        string Platform,
        long Size,
        ImageConfig Config,
        ImageManifest Manifest);
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ImageCommand.InspectDocument))]
internal sealed partial class InspectJsonContext : JsonSerializerContext;
