using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Containers.IntegrationTests.Support;
using Containers.Linux;

namespace Containers.IntegrationTests.Packaging;

/// <summary>
/// The path a new user takes: the library and the command line packed (from this build) into a local feed, the
/// library installed into a fresh project and the tool into a fresh tool path, a container run through each. Runs in
/// the root pass (a fresh project's container is a root one).
/// </summary>
public sealed partial class PackageTests(PackageTests.Packages packed) : IClassFixture<PackageTests.Packages>
{
    /// <summary>The SourceLink record of a portable PDB (its CustomDebugInformation kind).</summary>
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>The project's address the packs are given (as build/pack.sh passes the git remote's).</summary>
    private const string RepositoryUrl = "https://git.example.org/team/containers";

    [Fact(Timeout = 600_000)]
    public async Task The_library_package_carries_its_metadata_a_nuget_readme_both_shims_and_a_symbols_package_with_sourcelink()
    {
        Requires.Root();
        var feed = await packed.Feed;

        using var package = ZipFile.OpenRead(feed.Library);
        var metadata = Nuspec(package);
        Assert.Equal("Containers", Element(metadata, "id"));
        Assert.Contains("-", feed.Version, StringComparison.Ordinal);
        Assert.Contains("preview", Element(metadata, "description"), StringComparison.Ordinal);
        Assert.Contains("oci", Element(metadata, "tags").Split(' '));
        var project = Element(metadata, "projectUrl");
        Assert.Equal(RepositoryUrl, project);
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal(project, repository.Attribute("url")?.Value);
        var commit = repository.Attribute("commit")?.Value ?? "";
        Assert.Matches("^[0-9a-f]{40}$", commit);
        Assert.Equal("README.md", Element(metadata, "readme"));

        // Written for nuget.org: every link absolute, under the project's address, and no repository scripts.
        var readme = Read(package, "README.md");
        AssertLinksAreAbsolute(readme);
        Assert.Contains($"]({RepositoryUrl}/blob/main/docs/spec-support.md)", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("build/", readme, StringComparison.Ordinal);

        Assert.Equal(62, ElfMachine(package, "runtimes/linux-x64/native/libcontainers-shim.so"));   // EM_X86_64
        Assert.Equal(183, ElfMachine(package, "runtimes/linux-arm64/native/libcontainers-shim.so")); // EM_AARCH64

        using var symbols = ZipFile.OpenRead(Path.ChangeExtension(feed.Library, ".snupkg"));
        using var pdb = new MemoryStream(Bytes(symbols, "lib/net10.0/Containers.pdb"));
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        var reader = provider.GetMetadataReader();
        var sourceLink = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
            .Single();
        Assert.Contains($"{project}/raw/{commit}/*", sourceLink, StringComparison.Ordinal);
    }

    [Fact(Timeout = 600_000)]
    public async Task A_fresh_project_that_installs_the_library_package_runs_a_container()
    {
        Requires.Root();
        var feed = await packed.Feed;
        var app = Path.Combine(feed.Work, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Containers" Version="[{feed.Version}]" />
              </ItemGroup>
            </Project>
            """, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using Containers.Runtime;
            using Containers.Spec;

            await using var runtime = await ContainerRuntime.OpenAsync();
            var result = await runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "echo hello from $(hostname)").WithHostname("from-package"));
            Console.Write(result.Stdout + result.Stderr);
            return result.ExitCode ?? 1;
            """, TestContext.Current.CancellationToken);

        var build = await DotnetAsync(feed, app, "build", "-c", "Release", "--configfile", feed.Config, "-o", Path.Combine(app, "out"));
        Assert.True(build.ExitCode == 0, build.Output);

        var run = await RunAsync(feed, Path.Combine(app, "out", "app"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("hello from from-package\n", run.Output);
    }

    [Fact(Timeout = 600_000)]
    public async Task The_tool_package_installs_the_containers_command_which_runs_a_container()
    {
        Requires.Root();
        var feed = await packed.Feed;
        using (var package = ZipFile.OpenRead(feed.Tool))
        {
            var metadata = Nuspec(package);
            Assert.Equal("Containers.Cli", Element(metadata, "id"));
            Assert.Contains("DotnetTool", metadata.Elements().Single(e => e.Name.LocalName == "packageTypes").ToString(), StringComparison.Ordinal);
            Assert.Equal(RepositoryUrl, Element(metadata, "projectUrl"));
            var readme = Read(package, "README.md");
            Assert.Contains("dotnet tool install -g Containers.Cli --prerelease", readme, StringComparison.Ordinal);
            AssertLinksAreAbsolute(readme);
            Assert.Contains($"]({RepositoryUrl}/blob/main/docs/cli.md)", readme, StringComparison.Ordinal);

            // One package for every machine: the shim of each architecture where the tool loads the machine's one,
            // and none beside the assemblies (so the container run below used the runtimes/ copy).
            Assert.Equal(62, ElfMachine(package, ToolShim("linux-x64")));   // EM_X86_64
            Assert.Equal(183, ElfMachine(package, ToolShim("linux-arm64"))); // EM_AARCH64
            Assert.Null(package.GetEntry("tools/net10.0/any/libcontainers-shim.so"));
        }

        var tools = Path.Combine(feed.Work, "tools");
        var install = await DotnetAsync(feed, feed.Work, "tool", "install", "Containers.Cli", "--tool-path", tools,
            "--version", feed.Version, "--configfile", feed.Config);
        Assert.True(install.ExitCode == 0, install.Output);

        var version = await RunAsync(feed, Path.Combine(tools, "containers"), "version");
        Assert.True(version.ExitCode == 0, version.Output);
        Assert.Contains(feed.Version, version.Output, StringComparison.Ordinal);

        var run = await RunAsync(feed, Path.Combine(tools, "containers"), "run", "--rm", "--hostname", "from-tool", "--host-rootfs", "--", "/bin/sh", "-c", "echo hello from $(hostname)");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("hello from from-tool\n", run.Output);
    }

    [Fact(Timeout = 600_000)]
    public async Task The_arm64_shim_of_both_packages_reports_the_plan_layout_of_the_host_shim_under_qemu()
    {
        Requires.Root();
        var qemu = Requires.Tool("qemu-aarch64-static");
        var gcc = Requires.Tool("aarch64-linux-gnu-gcc");
        var feed = await packed.Feed;
        var host = Shim.ReadPlanLayout();
        Assert.True(host.Count > 50, $"the host shim reports only {host.Count} layout entries");

        // The library's and the tool's copy: each package is checked as a user gets it.
        foreach (var (package, path) in new[] { (feed.Library, "runtimes/linux-arm64/native/libcontainers-shim.so"), (feed.Tool, ToolShim("linux-arm64")) })
        {
            var dir = Path.Combine(feed.Work, "arm64-" + Path.GetFileNameWithoutExtension(package));
            Directory.CreateDirectory(dir);
            using (var zip = ZipFile.OpenRead(package))
            {
                await File.WriteAllBytesAsync(Path.Combine(dir, "libcontainers-shim.so"), Bytes(zip, path), TestContext.Current.CancellationToken);
            }

            var compile = await ProcessAsync(feed, dir, gcc, "-O2", "-o", "plan-layout", Path.Combine(AppContext.BaseDirectory, "Packaging", "plan-layout.c"),
                "-L.", "-lcontainers-shim", "-Wl,-rpath,$ORIGIN");
            Assert.True(compile.ExitCode == 0, compile.Output);
            var run = await ProcessAsync(feed, dir, qemu, "-L", "/usr/aarch64-linux-gnu", "./plan-layout");
            Assert.True(run.ExitCode == 0, $"{path} of {Path.GetFileName(package)}: {run.Output}");

            var arm64 = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => ulong.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(host.OrderBy(kv => kv.Key, StringComparer.Ordinal), arm64.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
    }

    /// <summary>Where the tool package carries the shim of an architecture.</summary>
    private static string ToolShim(string rid) => $"tools/net10.0/any/runtimes/{rid}/native/libcontainers-shim.so";

    [Fact(Timeout = 600_000)]
    public async Task A_pack_without_the_project_address_fails_and_says_how_to_give_it()
    {
        Requires.Root();
        var feed = await packed.Feed;
        var output = Path.Combine(feed.Work, "no-address");

        var pack = await DotnetAsync(feed, SolutionRoot(), "pack", Path.Combine(SolutionRoot(), "src", "Containers"), "-c", "Release", "--no-build", "-o", output, "-p:ContainersRepositoryUrl=");

        Assert.NotEqual(0, pack.ExitCode);
        Assert.Contains("ContainersRepositoryUrl", pack.Output, StringComparison.Ordinal);
        Assert.Contains("build/pack.sh", pack.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*.nupkg").Any(), "a package was written without the project's address");
    }

    /// <summary>Packs both projects of this tree into a fresh local feed, once for the class (and only when a test asks).</summary>
    private static async Task<Feed> PackAsync(string work)
    {
        var root = SolutionRoot();
        var source = Path.Combine(work, "feed");
        var config = Path.Combine(work, "NuGet.config");
        // The feed first; the machine's package folder for the library's dependencies (restored for this build
        // already), nuget.org when it lacks one. Packages are unpacked into a folder of this test's own, so a
        // package of an earlier build with the same version is never reused.
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder ? folder
            : home.Length > 0 ? Path.Combine(home, ".nuget", "packages") : null;
        var machine = global is not null && Directory.Exists(global) ? $"""<add key="machine" value="{global}" />""" : "";
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="feed" value="{source}" />
                {machine}
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        var feed = new Feed(work, source, config, "", "", "");
        // The library is built again with the project's address, as build/pack.sh builds it: SourceLink's URLs are
        // written into its PDB by the compiler. Not restored again (the build's own restore stays as it is), and
        // without the analyzers, which the build of this tree ran already and which change no output.
        foreach (var (project, build) in new[] { ("src/Containers", "--no-restore"), ("src/Containers.Cli", "--no-build") })
        {
            var pack = await DotnetAsync(feed, root, "pack", Path.Combine(root, project), "-c", "Release", build, "-p:RunAnalyzers=false", "-o", source, $"-p:ContainersRepositoryUrl={RepositoryUrl}");
            if (pack.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet pack {project} failed:\n{pack.Output}");
            }
        }

        var library = Directory.GetFiles(source, "Containers.*.nupkg").Single(f => !Path.GetFileName(f).StartsWith("Containers.Cli.", StringComparison.Ordinal));
        var tool = Directory.GetFiles(source, "Containers.Cli.*.nupkg").Single();
        var version = Path.GetFileNameWithoutExtension(library)["Containers.".Length..];
        return feed with { Library = library, Tool = tool, Version = version };
    }

    private static string SolutionRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Containers.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException($"no Containers.sln above {AppContext.BaseDirectory}");
        }

        return root;
    }

    private static Task<(int ExitCode, string Output)> DotnetAsync(Feed feed, string directory, params string[] args) =>
        ProcessAsync(feed, directory, Path.Combine(DotnetRoot, "dotnet"), args);

    private static Task<(int ExitCode, string Output)> RunAsync(Feed feed, string program, params string[] args) =>
        ProcessAsync(feed, feed.Work, program, args);

    /// <summary>Runs a program with a small environment of its own (no HOME or SHELL assumed from the caller).</summary>
    private static async Task<(int ExitCode, string Output)> ProcessAsync(Feed feed, string directory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        start.Environment["PATH"] = $"{DotnetRoot}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        start.Environment["HOME"] = feed.Work;
        start.Environment["DOTNET_ROOT"] = DotnetRoot;
        start.Environment["DOTNET_CLI_HOME"] = feed.Work;
        start.Environment["NUGET_PACKAGES"] = Path.Combine(feed.Work, "packages");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["XDG_RUNTIME_DIR"] = Path.Combine(feed.Work, "run");
        start.Environment["XDG_DATA_HOME"] = Path.Combine(feed.Work, "data");

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The .NET installation this test runs on (its shared framework's grandparent).</summary>
    private static string DotnetRoot =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));

    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Element(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? throw new Xunit.Sdk.XunitException($"the nuspec has no <{name}>");

    private static byte[] Bytes(ZipArchive package, string path)
    {
        var entry = package.GetEntry(path) ?? throw new Xunit.Sdk.XunitException($"the package has no {path}");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Read(ZipArchive package, string path) => Encoding.UTF8.GetString(Bytes(package, path));

    /// <summary>The ELF header's e_machine of a file in the package.</summary>
    private static int ElfMachine(ZipArchive package, string path)
    {
        var elf = Bytes(package, path);
        Assert.True(elf.AsSpan(0, 4).SequenceEqual("\u007fELF"u8), $"{path} is not an ELF file");
        return BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(18, 2));
    }

    /// <summary>nuget.org shows a README away from the repository: a relative link there leads nowhere.</summary>
    private static void AssertLinksAreAbsolute(string readme)
    {
        var links = LinkTarget().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.StartsWith("https://", l, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkTarget();

    public sealed record Feed(string Work, string Source, string Config, string Library, string Tool, string Version);

    /// <summary>The packed feed and the folder of everything the tests install, removed after the class.</summary>
    public sealed class Packages : IDisposable
    {
        private readonly Lazy<string> _work = new(() => Directory.CreateTempSubdirectory("containers-package-test-").FullName);
        private readonly Lazy<Task<Feed>> _feed;

        public Packages() => _feed = new(() => PackAsync(_work.Value));

        public Task<Feed> Feed => _feed.Value;

        public void Dispose()
        {
            if (_work.IsValueCreated)
            {
                Directory.Delete(_work.Value, recursive: true);
            }
        }
    }
}
