using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary><see cref="ContainerRuntime.WatchEventsAsync"/>: what the runtime records of a run and of a created container.</summary>
public sealed class ContainerEventsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_run_records_create_start_die_with_its_exit_code_and_destroy_in_order()
    {
        using var fixture = new RuntimeFixture();
        var since = DateTimeOffset.UtcNow;

        var result = await fixture.Runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "exit 3"), new ContainerRunOptions { Id = "ran" }, Token);
        var events = await ReadAsync(fixture.Runtime, since);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(
            [(ContainerEventAction.Create, "ran"), (ContainerEventAction.Start, "ran"), (ContainerEventAction.Die, "ran"), (ContainerEventAction.Destroy, "ran")],
            events.Select(e => (e.Action, e.Id)));
        Assert.Equal((3, null), (events[2].ExitCode, events[2].Signal));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Time <= p.Second.Time), "in time order");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_follower_sees_a_created_container_start_get_killed_and_be_deleted_as_it_happens()
    {
        using var fixture = new RuntimeFixture();
        await using var follower = fixture.Runtime.WatchEventsAsync(cancellationToken: Token).GetAsyncEnumerator(Token);
        // The first step opens the journal and waits: every later event is new to it.
        var next = follower.MoveNextAsync();

        var container = await fixture.Runtime.CreateAsync("followed", ContainerSpec.For("/bin/sleep", "600"), null, Token);
        await container.StartAsync(Token);
        await container.KillAsync(Token);
        await container.DeleteAsync(Token);

        var seen = new List<ContainerEvent>();
        while (await next.AsTask().WaitAsync(TimeSpan.FromSeconds(30), Token))
        {
            seen.Add(follower.Current);
            if (follower.Current.Action == ContainerEventAction.Destroy)
            {
                break;
            }

            next = follower.MoveNextAsync();
        }

        Assert.Equal(
            [ContainerEventAction.Create, ContainerEventAction.Start, ContainerEventAction.Kill, ContainerEventAction.Die, ContainerEventAction.Destroy],
            seen.Select(e => e.Action));
        Assert.All(seen, e => Assert.Equal("followed", e.Id));
        Assert.Equal(9, seen[2].Signal);
        Assert.Equal((null, 9), (seen[3].ExitCode, seen[3].Signal));
    }

    private static async Task<List<ContainerEvent>> ReadAsync(ContainerRuntime runtime, DateTimeOffset since)
    {
        var events = new List<ContainerEvent>();
        await foreach (var e in runtime.WatchEventsAsync(since, DateTimeOffset.UtcNow, Token))
        {
            events.Add(e);
        }

        return events;
    }
}
