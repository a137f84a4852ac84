using System.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary>The <c>--root</c> option of the image commands and the store it opens (<c>CONTAINERS_ROOT</c> as fallback).</summary>
internal static class ImageStoreOption
{
    public const string EnvironmentVariable = "CONTAINERS_ROOT";

    public static Option<string?> Create() => new("--root")
    {
        Description = $"Image store root (default: ${EnvironmentVariable}, else {ImageStoreOptions.DefaultRoot})",
    };

    public static Task<ImageStore> OpenAsync(ParseResult parse, Option<string?> root, CancellationToken cancellationToken)
    {
        string? path = parse.GetValue(root);
        if (string.IsNullOrEmpty(path))
        {
            path = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }

        return ImageStore.OpenAsync(new ImageStoreOptions { Root = string.IsNullOrEmpty(path) ? null : path }, cancellationToken);
    }
}
