using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers volume create|ls|inspect|rm|prune</c>: named volumes beside the image store (<c>--root</c>), which
/// outlive the containers that mount them (<c>run -v NAME:/path</c>).
/// </summary>
internal static class VolumeCommand
{
    public static CommandSpec Create() => new("volume", "COMMAND", "Manage volumes")
    {
        Subcommands =
        [
            new CommandSpec("create", "[OPTIONS] NAME", "Create a volume")
            {
                MinArguments = 1,
                MaxArguments = 1,
                Options = [ImageStoreOption.Create()],
                Action = CreateAsync,
            },
            new CommandSpec("ls", "[OPTIONS]", "List volumes")
            {
                MaxArguments = 0,
                Options = [ImageStoreOption.Create(), OptionSpec.Flag("quiet", 'q', "Only print volume names")],
                Action = ListAsync,
            },
            new CommandSpec("inspect", "[OPTIONS] VOLUME [VOLUME...]", "Show volumes as JSON")
            {
                MinArguments = 1,
                Options = [ImageStoreOption.Create()],
                Action = InspectAsync,
            },
            new CommandSpec("rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove volumes no container uses")
            {
                MinArguments = 1,
                Options = [ImageStoreOption.Create()],
                Action = RemoveAsync,
            },
            new CommandSpec("prune", "[OPTIONS]", "Remove all volumes no container uses")
            {
                MaxArguments = 0,
                Options = [ImageStoreOption.Create(), OptionSpec.Flag("force", 'f', "Do not ask (prune never asks)")],
                Action = PruneAsync,
            },
        ],
    };

    private static async Task<ContainerRuntime> OpenAsync(Invocation invocation, CancellationToken ct)
    {
        var store = await ImageStoreOption.OpenAsync(invocation, ct).ConfigureAwait(false);
        return await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { Images = store }, ct).ConfigureAwait(false);
    }

    private static async Task<int> CreateAsync(Invocation create, CancellationToken ct)
    {
        var runtime = await OpenAsync(create, ct).ConfigureAwait(false);
        Console.WriteLine((await runtime.CreateVolumeAsync(create.Arguments[0], ct).ConfigureAwait(false)).Name);
        return 0;
    }

    private static async Task<int> ListAsync(Invocation ls, CancellationToken ct)
    {
        var runtime = await OpenAsync(ls, ct).ConfigureAwait(false);
        var volumes = await runtime.ListVolumesAsync(ct).ConfigureAwait(false);
        if (ls.Has("quiet"))
        {
            foreach (var volume in volumes)
            {
                Console.WriteLine(volume.Name);
            }

            return 0;
        }

        var table = new TextTable("DRIVER", "VOLUME NAME");
        foreach (var volume in volumes)
        {
            table.Add("local", volume.Name);
        }

        table.WriteTo(Console.Out);
        return 0;
    }

    private static async Task<int> InspectAsync(Invocation inspect, CancellationToken ct)
    {
        var runtime = await OpenAsync(inspect, ct).ConfigureAwait(false);
        var volumes = new List<Volume>();
        foreach (var name in inspect.Arguments)
        {
            volumes.Add(await runtime.GetVolumeAsync(name, ct).ConfigureAwait(false));
        }

        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var volume in volumes)
            {
                json.WriteStartObject();
                json.WriteString("Name", volume.Name);
                json.WriteString("Driver", "local");
                json.WriteString("Mountpoint", volume.Mountpoint);
                json.WriteString("CreatedAt", volume.Created);
                json.WriteBoolean("Anonymous", volume.Anonymous);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        stdout.Write("\n"u8);
        return 0;
    }

    private static async Task<int> RemoveAsync(Invocation rm, CancellationToken ct)
    {
        var runtime = await OpenAsync(rm, ct).ConfigureAwait(false);
        foreach (var name in rm.Arguments)
        {
            await runtime.RemoveVolumeAsync(name, ct).ConfigureAwait(false);
            Console.WriteLine(name);
        }

        return 0;
    }

    private static async Task<int> PruneAsync(Invocation prune, CancellationToken ct)
    {
        var runtime = await OpenAsync(prune, ct).ConfigureAwait(false);
        var removed = await runtime.PruneVolumesAsync(ct).ConfigureAwait(false);
        if (removed.Count > 0)
        {
            Console.WriteLine("Deleted Volumes:");
            foreach (var name in removed)
            {
                Console.WriteLine(name);
            }
        }

        return 0;
    }
}
