using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers images [-q] [--format json|TEMPLATE]</c>: the store's images with Docker's columns, one row per name.</summary>
internal static class ImagesCommand
{
    public static CommandSpec Create() => new("images", "[OPTIONS]", "List images")
    {
        MaxArguments = 0,
        Options =
        [
            OptionSpec.Value("format", null, "string", "table (the default), json (one object per line), or a Go template on each line's object: '{{.Repository}}:{{.Tag}}'"),
            OptionSpec.Flag("quiet", 'q', "Only show image IDs"),
            ImageStoreOption.Create(),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation images, CancellationToken ct)
    {
        var template = FormatOption.Template(images, "table", "json");
        var json = template is not null || images.Value("format") == "json";
        await using var store = await ImageStoreOption.OpenAsync(images, ct).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var table = new TextTable("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        foreach (var image in await store.ListAsync(ct).ConfigureAwait(false))
        {
            var id = image.Digest.Hex[..12];
            if (images.Has("quiet"))
            {
                Console.WriteLine(id);
                continue;
            }

            var names = image.References.Count == 0
                ? [("<none>", "<none>")]
                : image.References.Select(r => (Repository(r), r.Tag ?? "<none>"));
            var created = image.Config.Created is { } when ? HumanTime.Ago(when, now) : "N/A";
            foreach (var (repository, tag) in names)
            {
                if (json)
                {
                    var line = Json(repository, tag, image.Digest, image.Config.Created, image.Size, now);
                    Console.WriteLine(template is null ? line : FormatOption.Execute(template, line));
                }
                else
                {
                    table.Add(repository, tag, id, created, Size(image.Size));
                }
            }
        }

        if (!json && !images.Has("quiet"))
        {
            table.WriteTo(Console.Out);
        }

        return 0;
    }

    /// <summary>The familiar name without its tag and digest (<c>busybox</c>, <c>registry.example:5000/tools/busybox</c>).</summary>
    private static string Repository(ImageReference reference)
    {
        var name = reference.FamiliarName.Split('@')[0];
        return reference.Tag is { } tag ? name[..^(tag.Length + 1)] : name;
    }

    /// <summary>
    /// The object of <c>--format json</c> and templates, with the fields and value formats of Docker's
    /// <c>docker images --format '{{json .}}'</c>. The id is the manifest's digest cut to 12, as the table shows it
    /// (Docker's containerd store names images the same way), and <c>Digest</c> is that digest in full. Docker prints
    /// <c>N/A</c> for <c>Containers</c>, <c>SharedSize</c> and <c>UniqueSize</c> unless asked to count them, which is
    /// what they are here too; <c>VirtualSize</c> is <c>Size</c>, as in Docker.
    /// </summary>
    internal static string Json(string repository, string tag, Digest digest, DateTimeOffset? created, long size, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("Containers", "N/A");
            json.WriteString("CreatedAt", created is { } at ? HumanTime.GoTime(at) : "N/A");
            json.WriteString("CreatedSince", created is { } since ? HumanTime.Ago(since, now) : "N/A");
            json.WriteString("Digest", digest.ToString());
            json.WriteString("ID", digest.Hex[..12]);
            json.WriteString("Repository", repository);
            json.WriteString("SharedSize", "N/A");
            json.WriteString("Size", Size(size));
            json.WriteString("Tag", tag);
            json.WriteString("UniqueSize", "N/A");
            json.WriteString("VirtualSize", Size(size));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A size in Docker's decimal units with three significant digits (<c>4.26MB</c>).</summary>
    internal static string Size(long bytes) => HumanTime.Size(bytes);
}
