using Containers.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Tests.Runtime;

public sealed class StateDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("containers-state-unit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_written_state_reads_back_with_the_OCI_status_name()
    {
        var states = new StateDirectory(_root);
        var state = NewState("alpha", ProcessIdentity.Current);
        states.Claim(state);
        states.Write(state with { Status = ContainerStatus.Running, Pid = 42, ExitCode = null });

        Assert.Equal(ContainerStatus.Running, states.Read("alpha").Status);
        Assert.Contains("\"status\":\"running\"", File.ReadAllText(Path.Combine(_root, "alpha", "state.json")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "alpha"), ".state.json.*"));
    }

    [Fact]
    public void A_file_written_again_takes_the_place_of_the_old_one_which_a_reader_that_has_it_open_still_reads_whole()
    {
        var states = new StateDirectory(_root);
        states.Claim(NewState("beta", ProcessIdentity.Current));
        var folder = Path.Combine(_root, "beta");

        // config.json is written once where there is none yet (a rename), then over the old one (an exchange).
        states.WriteConfig("beta", "{\"first\":1}"u8.ToArray());
        using (var old = File.OpenRead(Path.Combine(folder, StateDirectory.ConfigFile)))
        {
            states.WriteConfig("beta", "{\"second\":2}"u8.ToArray());

            Assert.Equal("{\"first\":1}", new StreamReader(old).ReadToEnd());
        }

        Assert.Equal("{\"second\":2}", File.ReadAllText(Path.Combine(folder, StateDirectory.ConfigFile)));
        states.Write(NewState("beta", ProcessIdentity.Current) with { Status = ContainerStatus.Stopped, ExitCode = 3 });
        Assert.Equal(3, states.Read("beta").ExitCode);
        Assert.Equal(["config.json", "state.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Claiming_a_taken_id_fails_and_keeps_the_first_state()
    {
        var states = new StateDirectory(_root);
        states.Claim(NewState("taken", ProcessIdentity.Current));

        Assert.Throws<ContainerAlreadyExistsException>(() => states.Claim(NewState("taken", ProcessIdentity.Current) with { Command = ["other"] }));
        Assert.Equal(["/bin/true"], states.Read("taken").Command);
    }

    [Fact]
    public void Stale_entries_whose_owner_and_process_are_gone_are_removed_and_live_ones_kept()
    {
        var states = new StateDirectory(_root);
        var dead = new ProcessIdentity(int.MaxValue - 1, 1);
        states.Claim(NewState("stale", dead));
        states.Claim(NewState("live", ProcessIdentity.Current));
        states.Claim(NewState("kept-log", dead) with { Status = ContainerStatus.Stopped, LogPath = "/x/container.log" });

        var removed = states.RemoveStale(NullLogger.Instance);

        Assert.Equal(1, removed);
        Assert.Equal(["kept-log", "live"], states.List().Select(s => s.Id).Order());
    }

    [Fact]
    public void A_stale_entry_whose_store_was_removed_is_removed_and_one_that_cannot_be_does_not_stop_the_sweep()
    {
        var states = new StateDirectory(_root);
        var dead = new ProcessIdentity(int.MaxValue - 1, 1);
        var gone = Path.Combine(_root, "..", "no-such-store-" + Guid.NewGuid().ToString("N"));
        states.Claim(NewState("store-gone", dead) with { ContainerDirectory = Path.Combine(gone, "containers", "x"), LeaseFile = Path.Combine(gone, "leases", "x.json") });
        // A container directory below a regular file cannot be removed (ENOTDIR): that entry stays, the others go.
        var file = Path.Combine(_root, "..", "a-file-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, "");
        try
        {
            states.Claim(NewState("unremovable", dead) with { ContainerDirectory = Path.Combine(file, "x") });
            states.Claim(NewState("plain", dead));

            var removed = states.RemoveStale(NullLogger.Instance);

            Assert.Equal(2, removed);
            Assert.Equal(["unremovable"], states.List().Select(s => s.Id));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void One_stale_entry_is_removed_unless_another_holds_its_root_and_a_live_one_is_left_alone()
    {
        var states = new StateDirectory(_root);
        var dead = new ProcessIdentity(int.MaxValue - 1, 1);
        var held = Path.Combine(_root, "..", "held-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(held);
        try
        {
            states.Claim(NewState("live", ProcessIdentity.Current));
            states.Claim(NewState("stale", dead));
            states.Claim(NewState("held", dead) with { ContainerDirectory = held });

            // A copy from the container (or another sweep removing it) holds the root lock of its directory.
            var (free, copy) = ContainerStorage.TryLock(held);
            using (copy)
            {
                Assert.True(free);
                Assert.NotNull(copy);
                Assert.Equal(StateDirectory.StaleEntry.Live, states.TryRemoveStale(states.Read("live"), NullLogger.Instance));
                Assert.Equal(StateDirectory.StaleEntry.Removed, states.TryRemoveStale(states.Read("stale"), NullLogger.Instance));
                Assert.Equal(StateDirectory.StaleEntry.Left, states.TryRemoveStale(states.Read("held"), NullLogger.Instance));
                Assert.Equal(["held", "live"], states.List().Select(s => s.Id).Order());
            }

            Assert.Equal(StateDirectory.StaleEntry.Removed, states.TryRemoveStale(states.Read("held"), NullLogger.Instance));
            Assert.Equal(["live"], states.List().Select(s => s.Id));
            Assert.False(Directory.Exists(held));
        }
        finally
        {
            if (Directory.Exists(held))
            {
                Directory.Delete(held, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("../up")]
    [InlineData("-dash")]
    [InlineData("has space")]
    public void Ids_that_are_not_plain_names_are_rejected(string id) =>
        Assert.Throws<InvalidContainerIdException>(() => StateDirectory.ValidateId(id));

    [Fact]
    public void Removing_deletes_the_folder_with_whatever_else_it_holds_and_a_missing_one_is_no_error()
    {
        var states = new StateDirectory(_root);
        states.Claim(NewState("plain", ProcessIdentity.Current));
        states.WriteConfig("plain", "{}"u8.ToArray());
        states.Claim(NewState("busy", ProcessIdentity.Current));
        states.WriteConfig("busy", "{}"u8.ToArray());
        File.WriteAllText(Path.Combine(_root, "busy", "container.log"), "a log beside the state\n");
        Directory.CreateDirectory(Path.Combine(_root, "busy", "more"));

        states.Remove("plain");
        states.Remove("busy");
        states.Remove("never-made");

        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void Removing_with_the_known_state_releases_the_storage_it_names_without_reading_the_folder()
    {
        var states = new StateDirectory(_root);
        var lease = Path.Combine(_root, "lease.json");
        File.WriteAllText(lease, "{}");
        var state = NewState("leased", ProcessIdentity.Current);
        states.Claim(state);

        // The file in the folder no longer names the lease; the state its writer holds does.
        File.WriteAllText(Path.Combine(_root, "leased", "state.json"), "not json");
        states.Remove("leased", state with { LeaseFile = lease });

        Assert.False(File.Exists(lease));
        Assert.False(Directory.Exists(Path.Combine(_root, "leased")));
    }

    [Fact]
    public void Writing_the_state_of_a_removed_container_fails_as_a_missing_folder_and_leaves_nothing()
    {
        var states = new StateDirectory(_root);
        var state = NewState("gone", ProcessIdentity.Current);
        states.Claim(state);
        states.Remove("gone");

        Assert.Throws<DirectoryNotFoundException>(() => states.Write(state with { Status = ContainerStatus.Running }));
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void The_start_time_tells_a_reused_pid_apart()
    {
        var self = ProcessIdentity.Current;

        Assert.True(self.IsAlive);
        Assert.False((self with { StartTime = self.StartTime + 1 }).IsAlive);
    }

    /// <summary>A container's state as its owner writes it at creation (shared by the sweep tests).</summary>
    internal static ContainerState NewState(string id, ProcessIdentity owner) => new()
    {
        Id = id,
        Status = ContainerStatus.Creating,
        Bundle = "/nonexistent/" + id,
        Created = DateTimeOffset.UtcNow,
        OwnerPid = owner.Pid,
        OwnerStartTime = owner.StartTime,
        Command = ["/bin/true"],
    };
}
