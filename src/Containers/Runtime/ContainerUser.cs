using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// Turns Docker's <c>--user</c> (<c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c>) into a
/// <see cref="UserSpec"/>. Names are looked up in the container's own <c>/etc/passwd</c> and <c>/etc/group</c>, opened
/// inside its root (<c>openat2</c> with <c>RESOLVE_IN_ROOT</c>: a symlink in the rootfs cannot lead to the host's
/// files). Numbers are taken as they are and never looked up: <c>1</c> is uid 1 with gid 0, as Docker runs an id
/// that has no entry.
/// </summary>
public static class ContainerUser
{
    /// <summary>The largest <c>/etc/passwd</c> or <c>/etc/group</c> read.</summary>
    internal const int MaxFileBytes = 4 << 20;

    /// <summary>Resolves <paramref name="user"/> against the root filesystem at <paramref name="rootfs"/>.</summary>
    /// <param name="rootfs">The container's root directory; <c>/</c> for the host rootfs, whose <c>/etc</c> the container sees.</param>
    /// <param name="user"><c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c> (a name and a number may mix).</param>
    /// <returns>The ids; a user found by name also gets the groups that list it as a member.</returns>
    /// <exception cref="ContainersException">A name is not in the container's files, or the files cannot be read.</exception>
    /// <example>
    /// <code>
    /// var user = ContainerUser.Resolve("/var/lib/rootfs", "nobody:nogroup");
    /// spec = spec with { Process = spec.Process! with { User = user } };
    /// </code>
    /// </example>
    public static UserSpec Resolve(string rootfs, string user)
    {
        ArgumentNullException.ThrowIfNull(rootfs);
        return Resolve(path => ReadLines(rootfs, path), user);
    }

    /// <summary>Resolves <paramref name="user"/> with the lines of the container's files that <paramref name="readLines"/> reads (<c>etc/passwd</c>, <c>etc/group</c>; none when missing).</summary>
    internal static UserSpec Resolve(Func<string, string[]> readLines, string user)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? user : user[..colon];
        var group = colon < 0 ? null : user[(colon + 1)..];
        if (name.Length == 0 || group is { Length: 0 })
        {
            throw new ContainersException($"user '{user}': use NAME, UID, NAME:GROUP or UID:GID");
        }

        uint uid;
        uint gid = 0;
        var additional = new List<uint>();
        if (TryParseId(name, out var numericUid))
        {
            uid = numericUid;
        }
        else
        {
            var entry = Find(readLines("etc/passwd"), name)
                ?? throw new ContainersException($"user '{name}' is not in the container's /etc/passwd: use a name it lists or a numeric uid");
            uid = ParseField(entry, 2, "/etc/passwd", name);
            gid = ParseField(entry, 3, "/etc/passwd", name);
            foreach (var line in readLines("etc/group"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 4 && fields[3].Split(',').Contains(name) && TryParseId(fields[2], out var member) && member != gid)
                {
                    additional.Add(member);
                }
            }
        }

        if (group is not null)
        {
            if (TryParseId(group, out var numericGid))
            {
                gid = numericGid;
            }
            else
            {
                var entry = Find(readLines("etc/group"), group)
                    ?? throw new ContainersException($"group '{group}' is not in the container's /etc/group: use a name it lists or a numeric gid");
                gid = ParseField(entry, 2, "/etc/group", group);
            }
        }

        return new UserSpec { Uid = uid, Gid = gid, AdditionalGids = [.. additional] };
    }

    /// <summary>
    /// <paramref name="user"/> with <paramref name="groups"/> (names or gids, as Docker's <c>--group-add</c>) added to
    /// its supplementary groups; names are looked up in the <c>/etc/group</c> of the root filesystem at
    /// <paramref name="rootfs"/>, as <see cref="Resolve(string, string)"/> does.
    /// </summary>
    /// <exception cref="ContainersException">A group name is not in the container's /etc/group, or the file cannot be read.</exception>
    /// <example>
    /// <code>
    /// var user = ContainerUser.AddGroups("/", spec.Process!.User, ["video", "44"]);
    /// </code>
    /// </example>
    public static UserSpec AddGroups(string rootfs, UserSpec user, IEnumerable<string> groups)
    {
        ArgumentNullException.ThrowIfNull(rootfs);
        return AddGroups(path => ReadLines(rootfs, path), user, groups);
    }

    /// <summary>As <see cref="AddGroups(string, UserSpec, IEnumerable{string})"/> with the lines <paramref name="readLines"/> reads.</summary>
    internal static UserSpec AddGroups(Func<string, string[]> readLines, UserSpec user, IEnumerable<string> groups)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(groups);
        var gids = new List<uint>(user.AdditionalGids);
        foreach (var group in groups)
        {
            var gid = TryParseId(group, out var numeric) ? numeric
                : Find(readLines("etc/group"), group) is { } entry ? ParseField(entry, 2, "/etc/group", group)
                : throw new ContainersException($"group '{group}' is not in the container's /etc/group: use a name it lists or a numeric gid");
            if (!gids.Contains(gid))
            {
                gids.Add(gid);
            }
        }

        return user with { AdditionalGids = [.. gids] };
    }

    private static bool TryParseId(string text, out uint id) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    private static string[]? Find(IEnumerable<string> lines, string name)
    {
        foreach (var line in lines)
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name)
            {
                return fields;
            }
        }

        return null;
    }

    private static uint ParseField(string[] fields, int index, string file, string name) =>
        TryParseId(fields[index], out var id) ? id : throw new ContainersException($"the container's {file} has no valid id for '{name}'");

    /// <summary>The lines of a file inside the root, or none when it does not exist.</summary>
    private static unsafe string[] ReadLines(string rootfs, string path)
    {
        using var root = DirectoryTree.OpenDirectory(Path.GetFullPath(rootfs));
        if (root.IsInvalid)
        {
            throw new ContainersException($"cannot open the root filesystem '{rootfs}': errno {Marshal.GetLastPInvokeError()}");
        }

        var bytes = DirectoryTree.NulTerminated(path);
        SafeFileHandle file;
        fixed (byte* p = bytes)
        {
            file = FileSystemCalls.Openat2(
                root, p, FileSystemCalls.ORdOnly | FileSystemCalls.OCloExec, FileSystemCalls.ResolveInRoot | FileSystemCalls.ResolveNoMagicLinks);
        }

        using (file)
        {
            if (file.IsInvalid)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == 2 ? [] : throw new ContainersException($"cannot open the container's /{path}: errno {errno}");
            }

            using var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
            var buffer = new byte[MaxFileBytes + 1];
            var length = 0;
            int read;
            while ((read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
                if (length > MaxFileBytes)
                {
                    throw new ContainersException($"the container's /{path} is larger than {MaxFileBytes >> 20} MiB");
                }
            }

            return Encoding.UTF8.GetString(buffer, 0, length).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }
}
