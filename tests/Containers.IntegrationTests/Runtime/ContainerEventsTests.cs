using Containers.IntegrationTests.Linux;
using Containers.IntegrationTests.Support;
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

    [ScaledFact(90_000)]
    public async Task The_runtime_that_finds_a_SIGKILLed_owners_container_gone_records_its_die_with_an_unknown_status_before_its_destroy()
    {
        using var fixture = new RuntimeFixture();
        var since = DateTimeOffset.UtcNow;
        using var helper = HelperProcess.Start("stop-one-start-one-and-hang", fixture.StateDirectory);
        var line = await helper.StandardOutput.ReadLineAsync(Token);
        Assert.True(int.TryParse(line, out _), $"the helper printed '{line}': {(helper.HasExited ? await helper.StandardError.ReadToEndAsync(Token) : "")}");

        helper.Kill();
        await helper.WaitForExitAsync(Token);
        // The container's process dies with its owner; until then a listing keeps it, as it may still be killed.
        var deadline = DateTime.UtcNow + TestTime.Scale(TimeSpan.FromSeconds(20));
        while ((await fixture.Runtime.ListAsync(Token)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the SIGKILLed owner's containers were not swept");
            await Task.Delay(50, Token);
        }

        var events = await ReadAsync(fixture.Runtime, since);

        // The stopped one's die was recorded by its owner (not again by the sweep); the running one's by the sweep.
        var actions = string.Join(", ", events.Select(e => $"{e.Action} {e.Id}"));
        Assert.True(events.Count == 8, actions);
        Assert.Equal(["Create stopped", "Start stopped", "Die stopped", "Create running", "Start running"], events.Take(5).Select(e => $"{e.Action} {e.Id}"));
        Assert.Equal(["Destroy stopped"], events.Skip(5).Where(e => e.Id == "stopped").Select(e => $"{e.Action} {e.Id}"));
        Assert.Equal(["Die running", "Destroy running"], events.Skip(5).Where(e => e.Id == "running").Select(e => $"{e.Action} {e.Id}"));
        Assert.True(events[2].ExitStatusKnown && events[2].ExitCode == 0, actions);
        var die = events.Single(e => e is { Id: "running", Action: ContainerEventAction.Die });
        Assert.False(die.ExitStatusKnown);
        Assert.Equal((null, null), (die.ExitCode, die.Signal));
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
