using Containers.Cli.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary>The <c>--root</c> option of the image commands and the store it opens (<c>CONTAINERS_ROOT</c> as fallback).</summary>
internal static class ImageStoreOption
{
    public const string EnvironmentVariable = "CONTAINERS_ROOT";

    public static OptionSpec Create() =>
        OptionSpec.Value("root", null, "string", $"Image store root (default: ${EnvironmentVariable}, else {ImageStoreOptions.DefaultRoot})");

    public static Task<ImageStore> OpenAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        string? path = invocation.Value("root");
        if (string.IsNullOrEmpty(path))
        {
            path = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }

        return ImageStore.OpenAsync(new ImageStoreOptions { Root = string.IsNullOrEmpty(path) ? null : path }, cancellationToken);
    }
}
