using System.Globalization;
using Containers.Cgroups;
using Containers.Runtime;
using Containers.Spec;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Tests.Runtime;

/// <summary>
/// A container whose owner is in another pid namespace than this process: its pids are numbers of that namespace.
/// The states made here name pids that no process of this namespace has, as they look from a new pid namespace
/// (where the owner and the container's process, alive, have no pid at all): the status is what the owner recorded,
/// and what needs the process is refused with a typed error.
/// </summary>
public sealed class OtherPidNamespaceTests : IDisposable
{
    private static readonly ProcessIdentity Unseen = new(int.MaxValue - 1, 1);
    private static readonly ulong OtherNamespace = ProcessIdentity.CurrentPidNamespace + 1;

    private readonly string _root = Directory.CreateTempSubdirectory("containers-pidns-unit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private StateDirectory States => new(Path.Combine(_root, "state"));

    private Task<ContainerRuntime> OpenAsync() => ContainerRuntime.OpenAsync(new ContainerRuntimeOptions
    {
        StateDirectory = States.Root,
        StorageDirectory = Path.Combine(_root, "storage"),
        NetworkNamespacePoolSize = 0,
        CgroupPoolSize = 0,
    }, TestContext.Current.CancellationToken);

    /// <summary>A running container, with its config, owned by <paramref name="owner"/> of <paramref name="pidNamespace"/>.</summary>
    private ContainerState Claim(string id, ProcessIdentity owner, ulong pidNamespace)
    {
        var states = States;
        var state = StateDirectoryTests.NewState(id, owner) with
        {
            Status = ContainerStatus.Running,
            Bundle = states.FolderOf(id),
            OwnerPidNamespace = pidNamespace,
            Pid = int.MaxValue - 2,
            PidStartTime = 1,
        };
        states.Claim(state);
        states.WriteConfig(id, System.Text.Encoding.UTF8.GetBytes(ContainerSpec.For("/bin/sleep", "600").ToJson()));
        return state;
    }

    [Fact]
    public async Task A_container_whose_owner_is_in_another_pid_namespace_is_listed_with_the_status_its_owner_recorded()
    {
        Claim("elsewhere", Unseen, OtherNamespace);
        Claim("here", ProcessIdentity.Current, ProcessIdentity.CurrentPidNamespace);
        await using var runtime = await OpenAsync();

        var listed = (await runtime.ListAsync(TestContext.Current.CancellationToken)).ToDictionary(c => c.Id);

        Assert.Equal(ContainerStatus.Running, listed["elsewhere"].Status);
        Assert.True(listed["elsewhere"].OwnerInOtherPidNamespace);
        Assert.Equal(OtherNamespace, listed["elsewhere"].OwnerPidNamespace);
        // In this namespace a process that has gone is seen gone.
        Assert.Equal(ContainerStatus.Stopped, listed["here"].Status);
        Assert.False(listed["here"].OwnerInOtherPidNamespace);
    }

    [Fact]
    public void A_sweep_leaves_a_container_whose_owner_is_in_another_pid_namespace()
    {
        Claim("elsewhere", Unseen, OtherNamespace);
        Claim("leftover", Unseen, ProcessIdentity.CurrentPidNamespace);

        Assert.Equal(1, States.RemoveStale(NullLogger.Instance));

        Assert.Equal(["elsewhere"], States.List().Select(s => s.Id));
    }

    [Fact]
    public async Task A_handle_from_another_pid_namespace_refuses_what_needs_the_process_with_a_typed_error()
    {
        Claim("elsewhere", Unseen, OtherNamespace);
        await using var runtime = await OpenAsync();
        var file = Path.Combine(_root, "file");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);

        await using var container = await runtime.GetAsync("elsewhere", TestContext.Current.CancellationToken);

        Assert.Equal(ContainerStatus.Running, container.Status);
        Assert.True(container.Info.OwnerInOtherPidNamespace);
        var errors = new List<ContainerPidNamespaceException>
        {
            await Assert.ThrowsAsync<ContainerPidNamespaceException>(() => container.SignalAsync(15, TestContext.Current.CancellationToken)),
            await Assert.ThrowsAsync<ContainerPidNamespaceException>(() => container.KillAsync(TestContext.Current.CancellationToken)),
            await Assert.ThrowsAsync<ContainerPidNamespaceException>(() => container.StopAsync(TimeSpan.Zero, TestContext.Current.CancellationToken)),
            await Assert.ThrowsAsync<ContainerPidNamespaceException>(() => container.ExecAsync(["true"], TestContext.Current.CancellationToken)),
            await Assert.ThrowsAsync<ContainerPidNamespaceException>(() => container.CopyToAsync(file, "/tmp", cancellationToken: TestContext.Current.CancellationToken)),
        };
        Assert.Equal(["signal", "kill", "stop", "exec in", "copy into"], errors.Select(e => e.Operation));
        Assert.All(errors, e => Assert.Equal((Unseen.Pid, OtherNamespace), (e.OwnerPid, e.OwnerPidNamespace)));
        Assert.Contains("another pid namespace", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(ContainerStatus.Running, States.Read("elsewhere").Status);
        Assert.Equal(ContainerStatus.Running, container.Status);
    }

    [Fact]
    public async Task A_wait_from_another_pid_namespace_ends_with_the_exit_its_owner_records()
    {
        var state = Claim("elsewhere", Unseen, OtherNamespace);
        await using var runtime = await OpenAsync();
        await using var container = await runtime.GetAsync("elsewhere", TestContext.Current.CancellationToken);

        var wait = container.WaitAsync(TestContext.Current.CancellationToken);
        // Its owner looks dead from here, which must not end the wait with an unknown status.
        Assert.False(wait.IsCompleted);
        States.Write(state with { Status = ContainerStatus.Stopped, ExitCode = 3 });
        var exit = await wait;

        Assert.Equal((3, (int?)null), (exit.ExitCode, exit.Signal));
        Assert.Equal(ContainerStatus.Stopped, container.Status);
    }

    [Fact]
    public async Task A_wait_from_another_pid_namespace_takes_the_exit_from_the_die_its_owner_recorded_before_removing_it()
    {
        Claim("elsewhere", Unseen, OtherNamespace);
        await using var runtime = await OpenAsync();
        await using var container = await runtime.GetAsync("elsewhere", TestContext.Current.CancellationToken);

        var wait = container.WaitAsync(TestContext.Current.CancellationToken);
        var states = States;
        states.Events.Append(new ContainerEvent(DateTimeOffset.UtcNow, "elsewhere", ContainerEventAction.Die) { Signal = 9 });
        states.Remove("elsewhere");
        states.Events.Append(new ContainerEvent(DateTimeOffset.UtcNow, "elsewhere", ContainerEventAction.Destroy));
        var exit = await wait;

        Assert.Equal(((int?)null, 9), (exit.ExitCode, exit.Signal));
    }

    [Fact]
    public async Task A_commit_marker_of_another_pid_namespace_is_not_taken_for_an_abandoned_commit()
    {
        Claim("elsewhere", ProcessIdentity.Current, ProcessIdentity.CurrentPidNamespace);
        Claim("here", ProcessIdentity.Current, ProcessIdentity.CurrentPidNamespace);
        await using var runtime = await OpenAsync();
        var elsewhere = Path.Combine(States.FolderOf("elsewhere"), "commit-freeze");
        var here = Path.Combine(States.FolderOf("here"), "commit-freeze");
        File.CreateSymbolicLink(elsewhere, string.Create(CultureInfo.InvariantCulture, $"{Unseen.Pid}:{Unseen.StartTime}:{OtherNamespace}"));
        File.CreateSymbolicLink(here, string.Create(CultureInfo.InvariantCulture, $"{Unseen.Pid}:{Unseen.StartTime}:{ProcessIdentity.CurrentPidNamespace}"));

        Assert.False(runtime.ThawAbandonedCommit("elsewhere"));
        Assert.True(runtime.ThawAbandonedCommit("here"));

        Assert.NotNull(new FileInfo(elsewhere).LinkTarget);
        Assert.False(File.Exists(here) || new FileInfo(here).LinkTarget is not null);
    }

    [Fact]
    public void A_pooled_cgroup_of_another_pid_namespace_is_never_taken_for_a_dead_process_s()
    {
        string Name(ProcessIdentity maker, ulong? pidNamespace) => string.Create(CultureInfo.InvariantCulture,
            $"{CgroupPool.Prefix}{maker.Pid}-{maker.StartTime}{(pidNamespace is { } ns ? $"-{ns}" : "")}-1");

        Assert.True(CgroupPool.IsOwnerAlive(Name(Unseen, OtherNamespace)));
        Assert.False(CgroupPool.IsOwnerAlive(Name(Unseen, ProcessIdentity.CurrentPidNamespace)));
        Assert.False(CgroupPool.IsOwnerAlive(Name(Unseen, null)));
        Assert.True(CgroupPool.IsOwnerAlive(Name(ProcessIdentity.Current, ProcessIdentity.CurrentPidNamespace)));
        Assert.True(CgroupPool.IsOwnerAlive(Name(ProcessIdentity.Current, null)));
    }
}
