using Containers.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Tests.Runtime;

/// <summary>
/// A container's <c>die</c> is recorded once, whenever its owner was killed: an owner records the die, then writes the
/// stopped state, so what a kill between any two steps leaves is one of the states made here (a dead owner, a dead
/// process), with or without the die in the journal; the sweep records what is missing and nothing twice.
/// </summary>
public sealed class SweepDieTests : IDisposable
{
    private static readonly ProcessIdentity Dead = new(int.MaxValue - 1, 1);

    private readonly string _root = Directory.CreateTempSubdirectory("containers-sweep-die-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private List<ContainerEvent> Recorded(StateDirectory states, string id)
    {
        var list = new List<ContainerEvent>();
        foreach (var path in (string[])[states.Events.Rotated, states.Events.Path])
        {
            if (File.Exists(path))
            {
                list.AddRange(File.ReadAllLines(path).Select(l => EventJournal.Parse(System.Text.Encoding.UTF8.GetBytes(l))).OfType<ContainerEvent>().Where(e => e.Id == id));
            }
        }

        return list;
    }

    private static ContainerState Running(string id) => StateDirectoryTests.NewState(id, Dead) with { Status = ContainerStatus.Running, Pid = int.MaxValue - 2, PidStartTime = 1 };

    [Fact]
    public void An_owner_killed_after_recording_the_die_and_before_writing_the_stopped_state_gets_no_second_die()
    {
        var states = new StateDirectory(_root);
        var state = Running("c");
        states.Claim(state);
        states.Events.Append(new ContainerEvent(DateTimeOffset.UtcNow, "c", ContainerEventAction.Die) { ExitCode = 3 });

        Assert.Equal(1, states.RemoveStale(NullLogger.Instance));

        var events = Recorded(states, "c");
        Assert.Equal([ContainerEventAction.Die, ContainerEventAction.Destroy], events.Select(e => e.Action));
        Assert.Equal(3, events[0].ExitCode); // the owner's, with its exit status
    }

    [Fact]
    public void An_owner_killed_before_recording_the_die_gets_one_from_the_sweep_with_an_unknown_status()
    {
        var states = new StateDirectory(_root);
        states.Claim(Running("c"));

        Assert.Equal(1, states.RemoveStale(NullLogger.Instance));

        var events = Recorded(states, "c");
        Assert.Equal([ContainerEventAction.Die, ContainerEventAction.Destroy], events.Select(e => e.Action));
        Assert.False(events[0].ExitStatusKnown);
    }

    [Fact]
    public void The_die_of_an_earlier_container_of_the_same_name_is_not_taken_for_this_one_s()
    {
        var states = new StateDirectory(_root);
        var earlier = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5);
        states.Events.Append(
            new ContainerEvent(earlier, "c", ContainerEventAction.Die) { ExitCode = 0 },
            new ContainerEvent(earlier, "c", ContainerEventAction.Destroy));
        states.Claim(Running("c"));

        states.RemoveStale(NullLogger.Instance);

        var events = Recorded(states, "c");
        Assert.Equal([ContainerEventAction.Die, ContainerEventAction.Destroy, ContainerEventAction.Die, ContainerEventAction.Destroy], events.Select(e => e.Action));
        Assert.False(events[2].ExitStatusKnown);
    }

    [Fact]
    public void A_stopped_state_whose_owner_died_is_removed_without_a_die_its_owner_recorded_before_writing_it()
    {
        var states = new StateDirectory(_root);
        states.Events.Append(new ContainerEvent(DateTimeOffset.UtcNow, "c", ContainerEventAction.Die) { ExitCode = 0 });
        states.Claim(Running("c") with { Status = ContainerStatus.Stopped, ExitCode = 0 });

        states.RemoveStale(NullLogger.Instance);

        Assert.Equal([ContainerEventAction.Die, ContainerEventAction.Destroy], Recorded(states, "c").Select(e => e.Action));
    }

    [Fact]
    public void Sweeps_in_parallel_record_each_leftover_s_die_and_destroy_once()
    {
        var states = new StateDirectory(_root);
        var ids = Enumerable.Range(0, 40).Select(i => $"c{i}").ToList();
        foreach (var id in ids)
        {
            states.Claim(Running(id));
        }

        // Every open and every listing sweeps; four at once, each over every entry.
        using var start = new Barrier(4);
        var removed = new int[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var mine = new StateDirectory(_root);
            start.SignalAndWait(TestContext.Current.CancellationToken);
            removed[i] = mine.RemoveStale(NullLogger.Instance);
        });

        Assert.Empty(states.List());
        foreach (var id in ids)
        {
            Assert.Equal([ContainerEventAction.Die, ContainerEventAction.Destroy], Recorded(states, id).Select(e => e.Action));
        }

        Assert.True(removed.Sum() <= ids.Count, $"removed {string.Join(", ", removed)}");
    }
}
