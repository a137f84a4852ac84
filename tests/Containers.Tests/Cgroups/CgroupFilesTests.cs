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
}
