using System.CommandLine;
using Containers.Distribution;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers pull REF [--platform P] [--insecure] [-q]</c>: pulls an image from a registry; prints its digest.</summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var reference = new Argument<string>("REF") { Description = "The image: name[:tag] or name@digest (busybox, ghcr.io/org/app:1.0, localhost:5000/app@sha256:…)" };
        var platform = new Option<string?>("--platform") { Description = "The platform to pull from a multi-platform image, os/arch[/variant] (default: this host's)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Show no progress; print only the image digest" };
        var registry = new RegistryOptions();
        var root = ImageStoreOption.Create();
        var command = new Command("pull", "Pull an image from a registry into the image store; prints the image digest") { reference, platform, quiet, root };
        registry.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var name = ImageReference.Parse(parse.GetValue(reference)!);
            var options = new PullOptions { Platform = parse.GetValue(platform) is { } chosen ? Platform.Parse(chosen) : null };
            using var client = registry.CreateClient(parse, name.Registry);
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var image = await TransferProgressDisplay.RunAsync(
                parse.GetValue(quiet),
                progress => client.PullAsync(store, name.ToString(), options, progress, ct)).ConfigureAwait(false);
            Console.WriteLine(image.Digest);
            return 0;
        });
        return command;
    }
}
