using System.Text;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>What a harness running untrusted programs relies on: input, a timeout that stops, a cap on output, a result that says what happened.</summary>
public sealed class RunOptionsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_run_past_its_timeout_is_stopped_and_returns_the_output_written_so_far()
    {
        using var fixture = new RuntimeFixture();

        // As pid 1 without a handler the shell ignores SIGTERM: the stop has to escalate to SIGKILL.
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo started; echo on stderr >&2; sleep 60"),
            new ContainerRunOptions { Timeout = TimeSpan.FromSeconds(2), StopGracePeriod = TimeSpan.FromMilliseconds(200) },
            Ct);

        Assert.True(result.TimedOut);
        Assert.Equal("started\n", result.Stdout);
        Assert.Equal("on stderr\n", result.Stderr);
        Assert.Equal(9, result.Signal);
        Assert.Null(result.ExitCode);
        Assert.Empty(await fixture.Runtime.ListAsync(Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_timed_out_program_that_handles_SIGTERM_ends_in_its_own_way()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "trap 'echo cleaning up; exit 3' TERM; echo started; sleep 60 & wait"),
            new ContainerRunOptions { Timeout = TimeSpan.FromSeconds(2), StopGracePeriod = TimeSpan.FromSeconds(30) },
            Ct);

        Assert.True(result.TimedOut);
        Assert.Equal("started\ncleaning up\n", result.Stdout);
        Assert.Equal(3, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_closes_its_output_and_goes_on_returns_its_output_and_exit_status()
    {
        using var fixture = new RuntimeFixture();

        // Its outputs reach end of file while it still runs; the run returns once it has ended, with both.
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo out; echo err >&2; exec >&- 2>&-; sleep 0.3; exit 3"), null, Ct);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_within_its_timeout_is_not_marked_timed_out()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "echo quick"), new ContainerRunOptions { Timeout = TimeSpan.FromSeconds(30) }, Ct);

        Assert.False(result.TimedOut);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("quick\n", result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task Output_past_the_cap_is_discarded_and_the_result_says_so()
    {
        using var fixture = new RuntimeFixture();

        // 4 MiB on stdout: far beyond the cap and the pipe buffer, so the writer only finishes if the rest is drained.
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' x; echo fine >&2"),
            new ContainerRunOptions { MaxOutputBytes = 1000 },
            Ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new string('x', 1000), result.Stdout);
        Assert.True(result.StdoutTruncated);
        Assert.Equal("fine\n", result.Stderr);
        Assert.False(result.StderrTruncated);
    }

    [Fact(Timeout = 60_000)]
    public async Task Stdin_content_reaches_the_program_followed_by_end_of_file()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "read a b; echo $((a + b)); wc -c"),
            new ContainerRunOptions { Stdin = Encoding.UTF8.GetBytes("3 4\n" + new string('y', 300_000)) },
            Ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["7", "300000"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_does_not_read_its_stdin_still_completes()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/true"), new ContainerRunOptions { Stdin = new byte[1 << 20] }, Ct);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_run_kills_it_and_the_exception_carries_the_output_so_far()
    {
        using var fixture = new RuntimeFixture();
        var shared = Directory.CreateTempSubdirectory("containers-run-cancel-").FullName;
        try
        {
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("containers need Linux");
            }

            // Writable for the container's root, which in the rootless pass is another host user.
            File.SetUnixFileMode(shared, (UnixFileMode)0x1FF);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var run = fixture.Runtime.RunAsync(
                ContainerSpec.For("/bin/sh", "-c", "echo started; touch /shared/ready; sleep 60").WithBindMount(shared, "/shared"),
                null,
                cancel.Token);

            // Wait for the program's own sign that it wrote its output, then cancel.
            while (!File.Exists(Path.Combine(shared, "ready")) && !run.IsCompleted)
            {
                await Task.Delay(20, Ct);
            }

            await cancel.CancelAsync();
            var error = await Assert.ThrowsAsync<ContainerRunCanceledException>(() => run);

            Assert.IsAssignableFrom<OperationCanceledException>(error);
            Assert.Equal("started\n", error.PartialResult.Stdout);
            Assert.Equal(9, error.PartialResult.Signal);
            Assert.Empty(await fixture.Runtime.ListAsync(Ct));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_prepared_container_runs_with_the_same_options_each_time()
    {
        using var fixture = new RuntimeFixture();
        var prepared = fixture.Runtime.Prepare(ContainerSpec.For("/bin/sh", "-c", "cat; sleep 60"));
        var options = new ContainerRunOptions { Stdin = "fed\n"u8.ToArray(), Timeout = TimeSpan.FromSeconds(2), StopGracePeriod = TimeSpan.Zero };

        var results = await Task.WhenAll(prepared.RunAsync(options, Ct), prepared.RunAsync(options, Ct));

        Assert.All(results, r => Assert.Equal((true, "fed\n", (int?)9), (r.TimedOut, r.Stdout, r.Signal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Options_that_make_no_sense_are_refused_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/true"), new ContainerRunOptions { Timeout = TimeSpan.Zero }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/true"), new ContainerRunOptions { MaxOutputBytes = -1 }, Ct));
        Assert.Empty(await fixture.Runtime.ListAsync(Ct));
    }
}
