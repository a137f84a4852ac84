using System.Diagnostics;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Runtime.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary>
/// <c>containers commit</c> killed with SIGKILL at several points of its work, each found by watching the store's
/// files (inotify), never by waiting for a time: nothing half-written becomes visible and the next command works.
/// </summary>
public sealed class CommitKillTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Store => _temp.Combine("store");

    public void Dispose() => _temp.Dispose();

    /// <summary>A point of a commit: which directory shows it and which file event there means the commit has reached it.</summary>
    private sealed record KillPoint(string Name, string Directory, Func<FileSystemEventArgs, bool> Reached);

    private static bool IsPartial(FileSystemEventArgs e, string prefix) =>
        Path.GetFileName(e.FullPath).StartsWith(prefix, StringComparison.Ordinal) && e.FullPath.EndsWith(".partial", StringComparison.Ordinal);

    private static long LengthOf(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task A_commit_killed_while_it_writes_leaves_no_image_no_tag_and_no_partial_file_and_the_next_commit_works()
    {
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await using (var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct))
        {
            await store.ImportAsync(layout, "kill-base:1", progress: null, Ct);
        }

        var name = "cli-commit-kill-" + Guid.NewGuid().ToString("N")[..8];

        // 48 MB that does not compress: the layer takes long enough to write that a kill lands inside it.
        var create = await CliRunner.RunAsync("create", "--root", Store, "--name", name, "kill-base:1", "-c",
            "busybox head -c 48000000 /dev/urandom > /big; echo small > /small");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            Assert.Equal(0, (await CliRunner.RunAsync("start", "-a", name)).ExitCode);
            var ingest = Path.Combine(Store, "ingest");
            var blobs = Path.Combine(Store, "blobs", "sha256");
            KillPoint[] points =
            [
                new("the layer file is created", ingest, e => e.ChangeType == WatcherChangeTypes.Created && IsPartial(e, "commit-")),
                new("the layer file holds 8 MB", ingest, e => IsPartial(e, "commit-") && LengthOf(e.FullPath) >= 8 << 20),
                new("the config is staged", ingest, e => e.ChangeType == WatcherChangeTypes.Created && IsPartial(e, "sha256-")),
                new("a blob is published", blobs, e => e.ChangeType is WatcherChangeTypes.Created or WatcherChangeTypes.Renamed),
            ];
            var killed = new List<string>();
            for (var i = 0; i < points.Length; i++)
            {
                var point = points[i];
                var before = await File.ReadAllBytesAsync(Path.Combine(Store, "index.json"), Ct);
                var tag = $"kill-{i}:1";
                var exit = await CommitKilledAtAsync(name, point, tag);
                var images = await CliRunner.RunAsync("images", "--root", Store);
                var after = await File.ReadAllBytesAsync(Path.Combine(Store, "index.json"), Ct);

                Assert.True(images.ExitCode == 0, images.Stderr);
                if (exit == 0 || !before.AsSpan().SequenceEqual(after))
                {
                    // Done before the kill landed, or killed after it published the index (the last step): then the
                    // image is whole and tagged.
                    Assert.Contains(tag.Split(':')[0], images.Stdout, StringComparison.Ordinal);
                    var run = await CliRunner.RunAsync("run", "--root", Store, tag, "-c", "busybox cat /small");
                    Assert.Equal((0, "small\n"), (run.ExitCode, run.Stdout));
                }
                else
                {
                    killed.Add(point.Name);
                    Assert.Equal(before, after);
                    Assert.DoesNotContain(tag.Split(':')[0], images.Stdout, StringComparison.Ordinal);
                }

                // The next open of the store (the 'images' above) removed what the killed commit left in ingest/.
                Assert.Empty(Directory.GetFiles(ingest, "*.partial"));
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"killed at: {string.Join("; ", killed)}");
            var commit = await CliRunner.RunAsync("commit", "--root", Store, name, "kill-done:1");
            var ran = await CliRunner.RunAsync("run", "--root", Store, "kill-done:1", "-c", "busybox cat /small; busybox stat -c %s /big");
            var prune = await CliRunner.RunAsync("prune", "--root", Store);

            Assert.True(commit.ExitCode == 0, commit.Stderr);
            Assert.Equal((0, "small\n48000000\n"), (ran.ExitCode, ran.Stdout));
            Assert.True(prune.ExitCode == 0, prune.Stderr);
            Assert.Contains(points[0].Name, killed);
            Assert.Contains(points[1].Name, killed);
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task A_commit_killed_while_the_container_is_frozen_leaves_it_for_the_next_command_to_thaw()
    {
        Requires.Root();
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await using (var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct))
        {
            await store.ImportAsync(layout, "freeze-base:1", progress: null, Ct);
        }

        var name = "cli-commit-freeze-" + Guid.NewGuid().ToString("N")[..8];
        // A limit gives it a cgroup, which a commit freezes; 48 MB that does not compress keeps the commit busy.
        var run = await CliRunner.RunAsync("run", "-d", "--root", Store, "--name", name, "-m", "256m", "freeze-base:1", "-c",
            "busybox head -c 48000000 /dev/urandom > /big; echo ready; exec busybox sleep 600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            await WaitForLogAsync(name, "ready");
            var folder = Path.Combine("/run/containers-net", name);
            var marker = Path.Combine(folder, "commit-freeze");
            var exit = await CommitKilledAtAsync(name, new("the layer file is created", Path.Combine(Store, "ingest"), e => e.ChangeType == WatcherChangeTypes.Created && IsPartial(e, "commit-")), "frozen:1");
            var frozenAfterKill = FreezerState(folder);
            var markedAfterKill = new FileInfo(marker).LinkTarget;

            var ps = await CliRunner.RunAsync("ps", "-a");
            var thawedAfterNextCommand = FreezerState(folder);
            var exec = await CliRunner.RunAsync("exec", name, "busybox", "echo", "alive");
            var commit = await CliRunner.RunAsync("commit", "--root", Store, name, "frozen-done:1");

            Assert.Equal(137, exit);
            Assert.True(frozenAfterKill, "the killed commit did not leave the container frozen");
            Assert.NotNull(markedAfterKill);
            Assert.True(ps.ExitCode == 0, ps.Stderr);
            Assert.False(thawedAfterNextCommand, "the next command did not thaw the container");
            Assert.False(File.Exists(marker) || new FileInfo(marker).LinkTarget is not null, "the marker of the dead commit is still there");
            Assert.Equal((0, "alive\n"), (exec.ExitCode, exec.Stdout));
            Assert.True(commit.ExitCode == 0, commit.Stderr);
            Assert.False(FreezerState(folder), "a commit that ended left the container frozen");
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    /// <summary>Whether the container's cgroup is frozen, read from its freezer (v1) or cgroup.freeze (v2) through the cgroup its state names.</summary>
    private static bool FreezerState(string folder)
    {
        using var state = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "state.json")));
        var cgroup = state.RootElement.GetProperty("cgroup");
        if (cgroup.TryGetProperty("freezer", out var v1))
        {
            return File.ReadAllText(Path.Combine(v1.GetString()!, "freezer.state")).Trim() != "THAWED";
        }

        return File.ReadAllText(Path.Combine(cgroup.GetProperty("").GetString()!, "cgroup.freeze")).Trim() == "1";
    }

    /// <summary>Waits until the detached container's log holds <paramref name="text"/> (its script reached that point).</summary>
    private static async Task WaitForLogAsync(string name, string text)
    {
        while (true)
        {
            var logs = await CliRunner.RunAsync("logs", name);
            if (logs.Stdout.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(logs.ExitCode == 0, logs.Stderr);
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>Starts 'commit NAME TAG' and kills it with SIGKILL as soon as <paramref name="point"/> is seen; returns its exit code.</summary>
    private async Task<int> CommitKilledAtAsync(string name, KillPoint point, string tag)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(point.Directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite, InternalBufferSize = 1 << 16 };
        void OnEvent(object? sender, FileSystemEventArgs e)
        {
            if (point.Reached(e))
            {
                reached.TrySetResult();
            }
        }

        watcher.Created += OnEvent;
        watcher.Changed += OnEvent;
        watcher.Renamed += OnEvent;
        watcher.EnableRaisingEvents = true;
        var start = CliRunner.StartInfo("commit", "--root", Store, name, tag);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        var exited = process.WaitForExitAsync(Ct);
        if (await Task.WhenAny(reached.Task, exited) == reached.Task)
        {
            process.Kill();
        }

        await process.WaitForExitAsync(Ct);
        await Task.WhenAll(stdout, stderr);
        Assert.True(process.ExitCode is 0 or 137, $"commit at '{point.Name}' exited {process.ExitCode}: {await stderr}");
        return process.ExitCode;
    }
}
