using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers version [--format json|TEMPLATE]</c>: the version of containers, the .NET runtime and the platform.</summary>
internal static class VersionCommand
{
    public static CommandSpec Create() => new("version", "[OPTIONS]", "Show the containers version information")
    {
        MaxArguments = 0,
        Options = [OptionSpec.Value("format", 'f', "string", "table (the default), json, or a Go template on the json object: '{{.Version}}'")],
        Action = (version, _) => Task.FromResult(Print(version)),
    };

    private static int Print(Invocation version)
    {
        // The CLI and the library are built together from one version (Directory.Build.props).
        var number = BuildInfo.Version;
        var runtime = RuntimeInformation.FrameworkDescription;
        var platform = "linux/" + RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "amd64",
            var other => other.ToString().ToLowerInvariant(),
        };
        // Native AOT is the one build without a JIT.
        var native = RuntimeFeature.IsDynamicCodeSupported ? "no" : "yes";
        var template = FormatOption.Template(version, "table", "json");
        if (version.Value("format") is null or "table")
        {
            Console.Out.Write($"Version:     {number}\n.NET:        {runtime}\nNative AOT:  {native}\nOS/Arch:     {platform}\n");
            return 0;
        }

        string line;
        using (var buffer = new MemoryStream())
        {
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("Version", number);
                json.WriteString("Runtime", runtime);
                json.WriteBoolean("NativeAot", native == "yes");
                json.WriteString("Os", platform.Split('/')[0]);
                json.WriteString("Arch", platform.Split('/')[1]);
                json.WriteEndObject();
            }

            line = Encoding.UTF8.GetString(buffer.ToArray());
        }

        Console.WriteLine(template is null ? line : FormatOption.Execute(template, line));
        return 0;
    }
}
