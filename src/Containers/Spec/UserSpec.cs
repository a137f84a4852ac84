using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>The identity the container's process runs as (<c>process.user</c>), in the container's id space.</summary>
public sealed record UserSpec
{
    /// <summary>The user id (<c>uid</c>); 0 is root inside the container.</summary>
    public uint Uid { get; init; }

    /// <summary>The primary group id (<c>gid</c>).</summary>
    public uint Gid { get; init; }

    /// <summary>The file mode creation mask (<c>umask</c>), at most <c>0777</c>; null keeps the inherited one.</summary>
    public uint? Umask { get; init; }

    /// <summary>Supplementary group ids (<c>additionalGids</c>), set with <c>setgroups(2)</c>.</summary>
    public ImmutableArray<uint> AdditionalGids { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The user name (<c>username</c>); OCI defines it for Windows only.</summary>
    public string? Username { get; init; }

    /// <summary>Whether both users have the same ids, umask and supplementary groups (in order).</summary>
    public bool Equals(UserSpec? other) =>
        other is not null && Uid == other.Uid && Gid == other.Gid && Umask == other.Umask
        && Structural.Equal(AdditionalGids, other.AdditionalGids) && string.Equals(Username, other.Username, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Uid, Gid, Umask, Structural.Hash(AdditionalGids), Username);
}
