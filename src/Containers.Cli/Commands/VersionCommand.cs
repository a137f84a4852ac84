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
        Options = [OptionSpec.Value("format", 'f', "string", "table (the default), json, or a Go template on the json object: '{{.Client.Version}}'")],
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

        var line = Json(number, runtime, native == "yes", platform.Split('/')[0], platform.Split('/')[1]);
        Console.WriteLine(template is null ? line : FormatOption.Execute(template, line));
        return 0;
    }

    /// <summary>
    /// The document of <c>--format</c>, shaped as Docker's (<c>{{.Client.Version}}</c>): Docker's fields where there
    /// is a value (Version, GitCommit, Os, Arch), this build's own beside them under <c>Client</c>, and <c>Server</c> null as
    /// Docker prints it with no daemon to ask, which is always so here.
    /// </summary>
    internal static string Json(string version, string runtime, bool nativeAot, string os, string arch)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("Client");
            // The SDK appends "+COMMIT" to the version when the build is made from a git checkout; Docker keeps the
            // two apart, with the short commit as GitCommit.
            var plus = version.IndexOf('+', StringComparison.Ordinal);
            json.WriteString("Version", plus < 0 ? version : version[..plus]);
            if (plus >= 0 && plus < version.Length - 1)
            {
                var commit = version[(plus + 1)..];
                json.WriteString("GitCommit", commit.Length > 7 ? commit[..7] : commit);
            }

            json.WriteString("Os", os);
            json.WriteString("Arch", arch);
            json.WriteString("Runtime", runtime);
            json.WriteBoolean("NativeAot", nativeAot);
            json.WriteEndObject();
            json.WriteNull("Server");
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
