using System.Diagnostics;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Runtime.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>containers cp</c> with a stopped container: host paths both ways, <c>-L</c>, and tar streams on stdin and stdout.</summary>
public sealed class CpCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Store => _temp.Combine("store");

    public void Dispose() => _temp.Dispose();

    /// <summary>Runs the command line with <paramref name="stdin"/> as its input file and its output written to <paramref name="stdout"/>.</summary>
    private static async Task<(int ExitCode, string Stderr)> RunBinaryAsync(string? stdin, string? stdout, params string[] args)
    {
        using var process = Process.Start(CliRunner.StartInfo(args))!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        var output = stdout is null ? process.StandardOutput.ReadToEndAsync(Ct) : CopyAsync(process.StandardOutput.BaseStream, stdout);
        if (stdin is not null)
        {
            await using var input = File.OpenRead(stdin);
            await input.CopyToAsync(process.StandardInput.BaseStream, Ct);
        }

        process.StandardInput.Close();
        await output;
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stderr);

        static async Task<string> CopyAsync(Stream from, string path)
        {
            await using var file = File.Create(path);
            await from.CopyToAsync(file, Ct);
            return "";
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task Cp_copies_files_and_tar_streams_in_and_out_of_a_stopped_container()
    {
        string tar = Requires.Tool("tar");
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await using (var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct))
        {
            await store.ImportAsync(layout, "cli-cp:1", progress: null, Ct);
        }

        var name = "cli-cp-" + Guid.NewGuid().ToString("N")[..8];
        var create = await CliRunner.RunAsync("create", "--root", Store, "--name", name, "cli-cp:1", "-c", "echo hello > /hello; busybox ln -s /hello /lnk; busybox mkdir /dst");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            var start = await CliRunner.RunAsync("start", "-a", name);
            Assert.Equal((0, ""), (start.ExitCode, start.Stderr));
            var payload = _temp.Combine("payload");
            await File.WriteAllTextAsync(payload, "payload\n", Ct);
            var tree = _temp.Combine("tree");
            Directory.CreateDirectory(tree);
            await File.WriteAllTextAsync(Path.Combine(tree, "in-tar"), "from tar\n", Ct);
            var archive = _temp.Combine("in.tar");
            await ImageFixtures.RunAsync(tar, "-cf", archive, "-C", tree, ".");

            var copyIn = await CliRunner.RunAsync("cp", "--root", Store, payload, $"{name}:/etc/");
            var copyOut = await CliRunner.RunAsync("cp", "--root", Store, $"{name}:/hello", _temp.Combine("hello"));
            var followed = await CliRunner.RunAsync("cp", "--root", Store, "-L", $"{name}:/lnk", _temp.Combine("followed"));
            var tarIn = await RunBinaryAsync(archive, null, "cp", "--root", Store, "-", $"{name}:/dst");
            var outTar = _temp.Combine("out.tar");
            var tarOut = await RunBinaryAsync(null, outTar, "cp", "--root", Store, $"{name}:/dst", "-");
            var contentsIn = await CliRunner.RunAsync("cp", "--root", Store, tree + "/.", $"{name}:/etc");
            var contentsOut = await CliRunner.RunAsync("cp", "--root", Store, $"{name}:/dst/.", _temp.Combine("out-contents"));
            var intoMissing = await CliRunner.RunAsync("cp", "--root", Store, $"{name}:/hello", _temp.Combine("missing") + "/");
            var diff = await CliRunner.RunAsync("diff", "--root", Store, name);
            var both = await CliRunner.RunAsync("cp", "--root", Store, "-", "-");

            Assert.Equal((0, ""), (copyIn.ExitCode, copyIn.Stderr));
            Assert.Equal((0, ""), (copyOut.ExitCode, copyOut.Stderr));
            Assert.Equal((0, ""), (followed.ExitCode, followed.Stderr));
            Assert.Equal((0, ""), tarIn);
            Assert.Equal((0, ""), tarOut);
            Assert.Equal("hello\n", await File.ReadAllTextAsync(_temp.Combine("hello"), Ct));
            Assert.Equal("hello\n", await File.ReadAllTextAsync(_temp.Combine("followed"), Ct));
            Assert.Null(new FileInfo(_temp.Combine("followed")).LinkTarget);
            Assert.Equal(["dst/", "dst/in-tar"], (await ImageFixtures.RunAsync(tar, "-tf", outTar)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("A /etc/payload\n", diff.Stdout, StringComparison.Ordinal);
            Assert.Contains("A /dst/in-tar\n", diff.Stdout, StringComparison.Ordinal);

            // A file is copied into a path ending in '/' only when that directory exists.
            Assert.Equal(125, intoMissing.ExitCode);
            Assert.Contains("no such directory", intoMissing.Stderr, StringComparison.Ordinal);
            Assert.False(Path.Exists(_temp.Combine("missing")));

            // A last '.' copies a directory's contents, not the directory itself, as docker cp does.
            Assert.Equal((0, ""), (contentsIn.ExitCode, contentsIn.Stderr));
            Assert.Equal((0, ""), (contentsOut.ExitCode, contentsOut.Stderr));
            Assert.Contains("A /etc/in-tar\n", diff.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("/etc/tree", diff.Stdout, StringComparison.Ordinal);
            Assert.Equal(["in-tar"], Directory.GetFileSystemEntries(_temp.Combine("out-contents")).Select(Path.GetFileName));
            Assert.Equal(125, both.ExitCode);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }
}
