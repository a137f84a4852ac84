using Containers.Cgroups;

namespace Containers.Tests.Cgroups;

public sealed class CgroupFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cgroup-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Numbers_keys_and_text_are_read_from_the_file_s_start_each_time_through_the_same_open_file()
    {
        File.WriteAllText(Path.Combine(_dir, "pids.current"), "7\n");
        File.WriteAllText(Path.Combine(_dir, "pids.max"), "max\n");
        File.WriteAllText(Path.Combine(_dir, "memory.events"), "low 0\nhigh 2\nmax 30\noom 4\noom_kill 3\n");
        using var files = new CgroupFiles();

        Assert.Equal(7, files.TryReadNumber(_dir, "pids.current"));
        Assert.Null(files.TryReadNumber(_dir, "pids.max"));
        Assert.Equal(3, files.TryReadKey(_dir, "memory.events", "oom_kill"));
        Assert.Equal(4, files.TryReadKey(_dir, "memory.events", "oom"));
        Assert.Null(files.TryReadKey(_dir, "memory.events", "oom_group_kill"));
        Assert.Equal("low 0\nhigh 2\nmax 30\noom 4\noom_kill 3", files.TryRead(_dir, "memory.events"));

        // Rewritten in place, as the kernel regenerates a cgroup file: the open file reads the new text.
        using (var stream = new FileStream(Path.Combine(_dir, "pids.current"), FileMode.Open, FileAccess.Write))
        {
            stream.Write("12\n"u8);
        }

        Assert.Equal(12, files.TryReadNumber(_dir, "pids.current"));
    }

    [Fact]
    public void A_missing_file_reads_as_nothing_and_a_closed_set_still_reads_by_opening_the_file()
    {
        File.WriteAllText(Path.Combine(_dir, "cpuacct.usage"), "123456789\n");
        var files = new CgroupFiles();
        Assert.Null(files.TryReadNumber(_dir, "missing"));
        Assert.Null(files.TryRead(_dir, "missing"));
        Assert.Equal(123456789, files.TryReadNumber(_dir, "cpuacct.usage"));

        files.Dispose();

        Assert.Equal(123456789, files.TryReadNumber(_dir, "cpuacct.usage"));
        Assert.Null(files.TryReadKey(_dir, "missing", "x"));
    }

    [Fact]
    public void Files_moved_with_their_renamed_directory_follow_it_and_the_former_set_reads_them_no_more()
    {
        var from = Path.Combine(_dir, "a");
        var to = Path.Combine(_dir, "b");
        Directory.CreateDirectory(from);
        File.WriteAllText(Path.Combine(from, "pids.current"), "5\n");
        using var files = new CgroupFiles();
        Assert.Equal(5, files.TryReadNumber(from, "pids.current"));

        Directory.Move(from, to);
        using var target = new CgroupFiles();
        files.MoveTo(target, from, to);
        File.WriteAllText(Path.Combine(to, "pids.current"), "9\n");
        File.WriteAllText(Path.Combine(to, "pids.max"), "64\n");

        // Renamed again behind its back: the kept handles still reach the file, and a new one opens from the
        // directory's own handle, not by the name it was given.
        Directory.Move(to, Path.Combine(_dir, "c"));
        Assert.Equal(9, target.TryReadNumber(to, "pids.current"));
        Assert.Equal(64, target.TryReadNumber(to, "pids.max"));
        Assert.Null(files.TryReadNumber(from, "pids.current"));
    }

    [Fact]
    public void Processes_are_read_afresh_each_time_and_a_missing_directory_has_none()
    {
        File.WriteAllText(Path.Combine(_dir, "cgroup.procs"), "4242\n");
        using var files = new CgroupFiles();
        Assert.True(files.HasProcesses(_dir));

        File.WriteAllText(Path.Combine(_dir, "cgroup.procs"), "");
        Assert.False(files.HasProcesses(_dir));
        Assert.False(files.HasProcesses(Path.Combine(_dir, "missing")));

        files.Dispose();
        File.WriteAllText(Path.Combine(_dir, "cgroup.procs"), "1\n");
        Assert.True(files.HasProcesses(_dir));
    }

    [Fact]
    public void A_handle_of_the_caller_s_own_writes_to_the_file_and_outlives_the_set()
    {
        File.WriteAllText(Path.Combine(_dir, "tasks"), "");
        var files = new CgroupFiles();
        files.OpenAhead(_dir, ["tasks"], []);
        using var handle = files.Open(_dir, "tasks", writable: true);
        files.Dispose();

        RandomAccess.Write(handle, "0\n"u8, 0);
        Assert.Equal("0\n", File.ReadAllText(Path.Combine(_dir, "tasks")));
        Assert.Throws<CgroupException>(() => files.Open(Path.Combine(_dir, "missing"), "tasks", writable: true));
    }
}
