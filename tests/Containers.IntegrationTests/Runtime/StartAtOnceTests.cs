using System.Text;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary><see cref="ContainerRuntime.StartAsync"/> and <see cref="PreparedContainer.StartAsync"/>: create and start in one step.</summary>
public sealed class StartAtOnceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_container_started_in_one_step_runs_its_program_and_is_a_container_like_any_other()
    {
        using var fixture = new RuntimeFixture();
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var container = await fixture.Runtime.StartAsync(
            "at-once", ContainerSpec.For("/bin/sh", "-c", "read x; echo \"got $x\"; exit 3"), null, Token);

        // Running, recorded so, and blocked in read until this test writes: the program is the container's process.
        Assert.Equal(ContainerStatus.Running, container.Status);
        Assert.Equal(ContainerStatus.Running, Assert.Single(await fixture.Runtime.ListAsync(Token)).Status);
        await Assert.ThrowsAsync<ContainerStatusException>(() => container.StartAsync(Token));

        await container.Stdin.WriteAsync(Encoding.UTF8.GetBytes("one\n"), Token);
        await container.Stdin.CompleteAsync();
        var result = await container.CollectAsync(Token);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("got one\n", result.Stdout);
        Assert.Equal(ContainerStatus.Stopped, container.Status);
        Assert.Equal(3, (await fixture.Runtime.GetAsync("at-once", Token)).State.ExitCode);
        var actions = new List<ContainerEventAction>();
        await foreach (var e in fixture.Runtime.WatchEventsAsync(since, DateTimeOffset.UtcNow, Token))
        {
            actions.Add(e.Action);
        }

        Assert.Equal([ContainerEventAction.Create, ContainerEventAction.Start, ContainerEventAction.Die], actions);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_setup_of_a_one_step_start_throws_its_stage_and_leaves_nothing_behind()
    {
        using var fixture = new RuntimeFixture();
        var missing = "/nonexistent-" + Guid.NewGuid().ToString("N");
        var spec = ContainerSpec.For("/bin/true").WithMount(new MountSpec { Destination = "/data", Type = "bind", Source = missing, Options = ["rbind"] });

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => fixture.Runtime.StartAsync(null, spec, null, Token));

        Assert.Contains(missing, error.Stage, StringComparison.Ordinal);
        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Empty(await fixture.Runtime.ListAsync(Token));
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_prepared_spec_starts_a_container_per_call()
    {
        using var fixture = new RuntimeFixture();
        var prepared = fixture.Runtime.Prepare(ContainerSpec.For("/bin/sh", "-c", "exit 5"));

        await using var first = await prepared.StartAsync(null, Token);
        await using var second = await prepared.StartAsync(null, Token);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(5, (await first.WaitAsync(Token)).ExitCode);
        Assert.Equal(5, (await second.WaitAsync(Token)).ExitCode);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_program_that_exits_at_once_has_its_die_recorded_after_its_create_and_start_in_order_and_in_time(bool run)
    {
        using var fixture = new RuntimeFixture();
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var prepared = fixture.Runtime.Prepare(ContainerSpec.For("/bin/true"));

        // /bin/true often exits before the start returns, and with starts beside it (the thread pool busy) its
        // exit can be seen while its create and start are still being recorded.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            if (run)
            {
                await prepared.RunAsync(new ContainerRunOptions { Id = "quick-" + i }, Token);
                return;
            }

            await using var container = await prepared.StartAsync("quick-" + i, Token);
            await container.WaitAsync(Token);
        }));

        var events = new Dictionary<string, List<ContainerEvent>>();
        await foreach (var e in fixture.Runtime.WatchEventsAsync(since, DateTimeOffset.UtcNow, Token))
        {
            if (e.Action is ContainerEventAction.Create or ContainerEventAction.Start or ContainerEventAction.Die)
            {
                (events.TryGetValue(e.Id, out var list) ? list : events[e.Id] = []).Add(e);
            }
        }

        Assert.Equal(40, events.Count);
        Assert.All(events.Values, list =>
        {
            Assert.Equal([ContainerEventAction.Create, ContainerEventAction.Start, ContainerEventAction.Die], list.Select(e => e.Action));
            Assert.True(list[0].Time <= list[1].Time && list[1].Time <= list[2].Time, string.Join(", ", list.Select(e => $"{e.Action} {e.Time:O}")));
        });
    }
}
