using Containers.Cli.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers image inspect IMAGE</c>: the image's manifest, config and names as JSON.</summary>
internal static class ImageCommand
{
    public static CommandSpec Create() => new("image", "COMMAND", "Manage images")
    {
        Subcommands =
        [
            new("inspect", "[OPTIONS] IMAGE", "Show an image's digest, names, config and manifest as JSON")
            {
                MinArguments = 1,
                MaxArguments = 1,
                Options = [ImageStoreOption.Create()],
                Action = InspectAsync,
            },
        ],
    };

    private static async Task<int> InspectAsync(Invocation inspect, CancellationToken ct)
    {
        await using var store = await ImageStoreOption.OpenAsync(inspect, ct).ConfigureAwait(false);
        var found = await store.ResolveAsync(inspect.Arguments[0], ct).ConfigureAwait(false);
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
