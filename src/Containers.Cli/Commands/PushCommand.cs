using System.CommandLine;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers push IMAGE [REF] [--insecure]</c>: pushes a stored image to a registry; prints its digest.</summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "The stored image: a name, a digest or a unique digest prefix" };
        var destination = new Argument<string?>("REF") { Description = "Where to push, registry/repository:tag (default: IMAGE's name)", Arity = ArgumentArity.ZeroOrOne };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Show no progress; print only the manifest digest" };
        var registry = new RegistryOptions();
        var root = ImageStoreOption.Create();
        var command = new Command("push", "Push an image to a registry; prints the manifest digest") { image, destination, quiet, root };
        registry.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            string source = parse.GetValue(image)!;
            string target = parse.GetValue(destination) ?? source;
            var targetName = ImageReference.Parse(target);
            using var client = registry.CreateClient(parse, targetName.Registry);
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var digest = await TransferProgressDisplay.RunAsync(
                parse.GetValue(quiet),
                progress => client.PushAsync(store, source, parse.GetValue(destination), progress, ct)).ConfigureAwait(false);
            Console.WriteLine(digest);
            return 0;
        });
        return command;
    }
}
