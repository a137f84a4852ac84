using System.Diagnostics;
using System.Text.Json;

namespace Containers.IntegrationTests.Cli;

public sealed class LogRotationTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_detached_container_writing_past_its_cap_keeps_at_most_max_file_files_and_logs_shows_the_newest_lines_in_order()
    {
        var name = "cli-logcap-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync(
            "run", "-d", "--name", name, "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "--host-rootfs", "--",
            "/bin/sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done");
        Assert.True(run.ExitCode == 0, run.Stderr);
        string? folder = null;
        try
        {
            var wait = await CliRunner.RunAsync("wait", name);
            Assert.True(wait.ExitCode == 0, wait.Stderr);
            Assert.Equal("0", wait.Stdout.Trim());
            var inspect = (await CliRunner.RunAsync("inspect", name)).Stdout;
            folder = Path.GetDirectoryName(LogPath(inspect))!;
            using (var document = JsonDocument.Parse(inspect))
            {
                var config = document.RootElement[0].GetProperty("HostConfig").GetProperty("LogConfig");
                Assert.Equal("json-file", config.GetProperty("Type").GetString());
                Assert.Equal("1024", config.GetProperty("Config").GetProperty("max-size").GetString());
                Assert.Equal("3", config.GetProperty("Config").GetProperty("max-file").GetString());
            }

            var files = Directory.GetFiles(folder, "container.log*");
            Assert.InRange(files.Length, 2, 3);
            Assert.All(files, f => Assert.InRange(new FileInfo(f).Length, 1, 1024));

            var logs = await CliRunner.RunAsync("logs", name);
            Assert.True(logs.ExitCode == 0, logs.Stderr);
            var lines = logs.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.InRange(lines.Length, 12, 60);
            Assert.Equal(Enumerable.Range(300 - lines.Length, lines.Length).Select(i => $"line-{i}"), lines);

            var tail = await CliRunner.RunAsync("logs", "--tail", "3", "-t", name);
            Assert.True(tail.ExitCode == 0, tail.Stderr);
            var tailLines = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["line-297", "line-298", "line-299"], tailLines.Select(l => l.Split(' ', 2)[1]));
            Assert.All(tailLines, l => Assert.True(DateTimeOffset.TryParse(l.Split(' ', 2)[0], out _), l));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }

        // The rotated files go with the container.
        Assert.False(Directory.Exists(folder), $"{folder} is left after rm");
    }

    [Fact(Timeout = 120_000)]
    public async Task Logs_follow_keeps_following_across_rotations_until_the_container_stops()
    {
        var name = "cli-logfollow-" + Guid.NewGuid().ToString("N")[..8];
        var sync = Directory.CreateTempSubdirectory("containers-cli-logs-").FullName;
        try
        {
            // The container waits for the go file, so the follower is reading before the first rotation. Enough files
            // are kept that none is deleted before it is read, however slow the machine.
            var run = await CliRunner.RunAsync(
                "run", "-d", "--name", name, "--log-opt", "max-size=1k", "--log-opt", "max-file=30", "-v", sync + ":/sync", "--host-rootfs", "--",
                "/bin/sh", "-c", "echo ready; while [ ! -e /sync/go ]; do sleep 0.05; done; i=0; while [ $i -lt 100 ]; do echo line-$i; i=$((i+1)); sleep 0.01; done");
            Assert.True(run.ExitCode == 0, run.Stderr);

            using var follow = Process.Start(CliRunner.StartInfo("logs", "-f", name))!;
            follow.StandardInput.Close();
            var stderr = follow.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var lines = new List<string>();
            while (await follow.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
            {
                lines.Add(line);
                if (line == "ready")
                {
                    await File.WriteAllTextAsync(Path.Combine(sync, "go"), "", TestContext.Current.CancellationToken);
                }
            }

            await follow.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(follow.ExitCode == 0, await stderr);
            Assert.Equal(["ready", .. Enumerable.Range(0, 100).Select(i => $"line-{i}")], lines);

            var folder = Path.GetDirectoryName(LogPath((await CliRunner.RunAsync("inspect", name)).Stdout))!;
            Assert.True(Directory.GetFiles(folder, "container.log*").Length >= 5, "the log rotated fewer times than the test needs");
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
            Directory.Delete(sync, recursive: true);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("compress=true", "unknown log option 'compress' (supported: max-size, max-file)")]
    [InlineData("max-size=100", "at least 1024 bytes")]
    [InlineData("max-file=0", "1 or more files")]
    [InlineData("max-file=many", "max-file takes a whole number")]
    public async Task A_log_option_that_cannot_be_applied_is_refused_before_anything_is_created(string option, string message)
    {
        var name = "cli-logopt-" + Guid.NewGuid().ToString("N")[..8];
        var run = await CliRunner.RunAsync("run", "-d", "--name", name, "--log-opt", option, "--host-rootfs", "--", "true");

        Assert.Equal(125, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Equal("", run.Stdout);
        Assert.NotEqual(0, (await CliRunner.RunAsync("inspect", name)).ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_foreground_run_refuses_log_options_as_it_keeps_no_log()
    {
        var run = await CliRunner.RunAsync("run", "--log-opt", "max-size=1m", "--host-rootfs", "--", "true");

        Assert.Equal(125, run.ExitCode);
        Assert.Contains("--log-opt sets the log of a detached container", run.Stderr, StringComparison.Ordinal);
    }

    private static string LogPath(string inspect)
    {
        using var document = JsonDocument.Parse(inspect);
        return document.RootElement[0].GetProperty("LogPath").GetString()!;
    }
}
