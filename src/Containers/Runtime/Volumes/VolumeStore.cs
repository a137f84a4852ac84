using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Images.Store;
using Containers.Linux;

namespace Containers.Runtime.Volumes;

/// <summary>
/// The volumes beside an image store: <c>volumes/NAME/_data</c> holds a volume's files and
/// <c>volumes/NAME/volume.json</c> what is known of it. Creating, populating and removing hold an <c>flock</c> on
/// <c>volumes/lock</c>, and so does a container's creation from its volumes' lookup until its state names them, so a
/// volume is never removed between the check that no container uses it and a container starting to.
/// </summary>
internal sealed partial class VolumeStore
{
    private const string DataFolder = "_data";
    private const string MetadataFile = "volume.json";

    public VolumeStore(string root)
    {
        Root = root;
    }

    public string Root { get; }

    /// <summary>Takes the volumes' lock (exclusive) until disposed.</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        return await FileLock.AcquireAsync(Path.Combine(Root, "lock"), exclusive: true, cancellationToken).ConfigureAwait(false);
    }

    public static void ValidateName(string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new InvalidVolumeNameException(name);
        }
    }

    /// <summary>The volume <paramref name="name"/>, created (empty) when missing. Hold the lock.</summary>
    public Volume GetOrCreate(string name, bool anonymous = false)
    {
        ValidateName(name);
        if (TryGet(name) is { } existing)
        {
            return existing;
        }

        var folder = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.Combine(folder, DataFolder));
        var volume = new Volume { Name = name, Mountpoint = Path.Combine(folder, DataFolder), Created = DateTimeOffset.UtcNow, Anonymous = anonymous };
        Save(volume);
        return volume;
    }

    /// <summary>A new anonymous volume (a random name of 64 hexadecimal digits). Hold the lock.</summary>
    public Volume CreateAnonymous() => GetOrCreate(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), anonymous: true);

    public Volume? TryGet(string name)
    {
        ValidateName(name);
        var file = Path.Combine(Root, name, MetadataFile);
        try
        {
            using var stream = File.OpenRead(file);
            return JsonSerializer.Deserialize(stream, RuntimeJsonContext.Default.Volume);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Volume Get(string name) => TryGet(name) ?? throw new VolumeNotFoundException(name);

    public IReadOnlyList<Volume> List()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        return [.. Directory.EnumerateDirectories(Root)
            .Select(Path.GetFileName)
            .Where(n => n is not null && NamePattern().IsMatch(n))
            .Select(n => TryGet(n!))
            .OfType<Volume>()
            .OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    /// <summary>Records that the volume holds its first container's image content. Hold the lock.</summary>
    public Volume MarkPopulated(Volume volume)
    {
        var populated = volume with { Populated = true };
        Save(populated);
        return populated;
    }

    /// <summary>
    /// Removes the volume and its files. Hold the lock, and check first that no container uses it. Without root,
    /// directories a rootless container's users own under subordinate ids are given back first (<see cref="ForeignOwners"/>).
    /// </summary>
    /// <exception cref="ContainersIOException">Something in it could not be removed.</exception>
    public void Remove(string name)
    {
        Get(name);
        var folder = Path.Combine(Root, name);
        var errno = ForeignOwners.Remove(folder);
        if (errno != 0 && errno != Errno.ENOENT)
        {
            throw new ContainersIOException(
                $"removing the volume '{name}' failed: {Errno.Name(errno)} ({Errno.Describe(errno)}): remove {folder} by hand, as the user that owns it", folder, null);
        }
    }

    private void Save(Volume volume)
    {
        var file = Path.Combine(Root, volume.Name, MetadataFile);
        var temporary = file + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(volume, RuntimeJsonContext.Default.Volume));
        File.Move(temporary, file, overwrite: true);
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();
}
