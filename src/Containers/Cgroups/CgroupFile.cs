using System.Globalization;
using System.Text;

namespace Containers.Cgroups;

/// <summary>Reads and writes cgroupfs files: one write per value (the kernel parses each write on its own), errors that name the file and the field.</summary>
internal static class CgroupFile
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="file"/> in <paramref name="dir"/> in one write call.</summary>
    /// <exception cref="CgroupException">The kernel refused it; the message names the file, the value and <paramref name="field"/>.</exception>
    public static void Write(string dir, string file, string value, string? field)
    {
        var path = Path.Combine(dir, file);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            RandomAccess.Write(handle, Encoding.ASCII.GetBytes(value), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CgroupException(field, $"writing '{value}' to {path} failed: {e.Message}", e);
        }
    }

    /// <summary>Writes a number as the kernel reads it.</summary>
    public static void Write(string dir, string file, long value, string? field) =>
        Write(dir, file, value.ToString(CultureInfo.InvariantCulture), field);

    /// <summary>The file's text without its trailing newline, or null when it does not exist.</summary>
    public static string? TryRead(string dir, string file) => Linux.LibC.TryReadText(Path.Combine(dir, file))?.TrimEnd('\n');

    /// <summary>A file holding one number, or null when it is missing or says <c>max</c>.</summary>
    public static long? TryReadNumber(string dir, string file) =>
        TryRead(dir, file) is { } text && long.TryParse(text.AsSpan().Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>Whether a counter file's text (<c>cpu.stat</c>, <c>blkio.throttle.io_serviced</c>) was read and every number in it is 0.</summary>
    public static bool IsZero(string? text)
    {
        if (text is null)
        {
            return false;
        }

        foreach (var word in text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (long.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value of <paramref name="key"/> in a flat keyed file such as <c>memory.events</c> or <c>cpu.stat</c> (<c>key value</c> lines).</summary>
    public static long? TryReadKey(string dir, string file, string key) => TryRead(dir, file) is { } text ? Key(text, key) : null;

    /// <summary>The value of <paramref name="key"/> in the flat-keyed text of a cgroup file (<c>key value</c> lines), or null.</summary>
    public static long? Key(ReadOnlySpan<char> text, string key)
    {
        foreach (var line in text.EnumerateLines())
        {
            var space = line.IndexOf(' ');
            if (space > 0 && line[..space].SequenceEqual(key)
                && long.TryParse(line[(space + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The pids listed in <c>cgroup.procs</c> (empty when the cgroup is gone).</summary>
    public static List<int> ReadProcs(string dir)
    {
        var pids = new List<int>();
        if (TryRead(dir, "cgroup.procs") is { } text)
        {
            foreach (var line in text.AsSpan().EnumerateLines())
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }

        return pids;
    }

    /// <summary>Removes an empty cgroup directory, retrying while the kernel still finishes the last exit (EBUSY); false when it still has processes.</summary>
    public static async Task<bool> RemoveAsync(string dir, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(dir);
                return true;
            }
            catch (DirectoryNotFoundException)
            {
                return true;
            }
            catch (IOException) when (attempt < 100)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
